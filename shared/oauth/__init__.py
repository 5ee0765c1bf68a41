"""OAuth connections to Stripe and HubSpot: the flows, and HubSpot token upkeep."""
