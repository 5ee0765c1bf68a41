"""HubSpot: the properties Omniroo owns, paced calls, and the gateway the sync talks to."""
