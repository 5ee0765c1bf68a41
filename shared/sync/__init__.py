"""The push side: from a thin message to HubSpot records, and the outcome of each event."""
