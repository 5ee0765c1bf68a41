"""Hypothesis profiles. ``omniroo`` (the default, and what CI runs) is derandomized with moderate
example counts so ``make test`` stays fast and a failure reproduces on every machine;
``HYPOTHESIS_PROFILE=deep`` explores at random with many more examples, for a local hunt."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "omniroo",
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "deep",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "omniroo"))
