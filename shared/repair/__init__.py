"""History and repair on the write path: backfill (with its preview), reconcile, replay and sync
health. Every one of them feeds the dirty keys (``shared.drain.dirty``) that the per-portal
drainer writes to HubSpot; none of them writes to HubSpot itself."""
