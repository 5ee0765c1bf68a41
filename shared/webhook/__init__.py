"""Stripe webhook ingestion: verify, parse the minimum, route, mark, publish."""
