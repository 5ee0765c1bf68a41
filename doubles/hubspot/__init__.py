"""The HubSpot double, split by concern: wire format, properties, records, limits, OAuth, app."""

from doubles.hubspot.app import HubSpotDouble

__all__ = ["HubSpotDouble"]
