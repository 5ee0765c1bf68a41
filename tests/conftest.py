"""Shared fixtures: the emulators of the Google Cloud CLI and the local HTTP doubles."""

pytest_plugins = ["tests.plugins.emulators", "tests.plugins.doubles"]
