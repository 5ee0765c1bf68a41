"""Fixtures: a fresh Stripe double per test, on its own free port.

It starts in milliseconds and stops when the test ends, so no state leaks between tests.
"""

from collections.abc import Iterator

import pytest

from doubles.stripe_double import StripeDouble


@pytest.fixture
def stripe_double() -> Iterator[StripeDouble]:
    with StripeDouble() as double:
        yield double
