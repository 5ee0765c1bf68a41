"""The production path pushes with the system clock, which really sleeps on 429s; a generous
portal budget keeps these scenarios about the path, not about rate limits (tested elsewhere)."""

from collections.abc import Iterator

import pytest

from doubles.hubspot import HubSpotDouble


@pytest.fixture
def hubspot_double() -> Iterator[HubSpotDouble]:
    with HubSpotDouble(rate_limit=100_000) as double:
        yield double
