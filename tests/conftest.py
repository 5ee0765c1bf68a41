"""Shared fixtures: the emulators of the Google Cloud CLI and the local HTTP doubles."""

pytest_plugins = [
    "tests.plugins.stack",
    "tests.plugins.emulators",
    "tests.plugins.doubles",
    "tests.plugins.kms",
    "tests.plugins.browser",
    "tests.plugins.secret_manager",
    "tests.plugins.fuzzing",
]
