"""Omniroo's library: everything the Cloud Functions in ``functions/`` do lives here."""
