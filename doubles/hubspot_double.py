"""A local, stateful stand-in for the HubSpot API (see ``doubles.hubspot`` for the parts)."""

from doubles.hubspot.app import HubSpotDouble

__all__ = ["HubSpotDouble"]
