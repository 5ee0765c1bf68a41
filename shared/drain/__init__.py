"""The write path: dirty keys, and the drainer that writes them to HubSpot under one budget."""
