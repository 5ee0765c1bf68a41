"""Fixtures: a fresh Stripe double and HubSpot double per test, each on its own free port.

Both start in milliseconds and stop when the test ends, so no state leaks between tests.
"""

from collections.abc import Iterator

import pytest

from doubles.hubspot import HubSpotDouble
from doubles.stripe import StripeDouble


@pytest.fixture
def stripe_double() -> Iterator[StripeDouble]:
    with StripeDouble() as double:
        yield double


@pytest.fixture
def hubspot_double() -> Iterator[HubSpotDouble]:
    with HubSpotDouble() as double:
        yield double
