"""Function tests run the push worker on a clock that records waits instead of sleeping them,
so HubSpot's real 10-second window would never roll over and long scenarios would dead-letter.
Rate limiting is tested on its own (429 faults, tests/test_hubspot_calls.py, the double's
tests); here the portal's budget is large."""

from collections.abc import Iterator

import pytest

from doubles.hubspot import HubSpotDouble


@pytest.fixture
def hubspot_double() -> Iterator[HubSpotDouble]:
    with HubSpotDouble(rate_limit=100_000) as double:
        yield double
