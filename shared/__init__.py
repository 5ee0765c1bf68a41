"""Omniroo's runtime library, staged with every function: everything the Cloud Functions in
``functions/`` do lives here. It never imports ``tooling/``, ``doubles/``, ``tests/`` or
``functions/`` (``tests/test_layout.py``)."""
