"""Operator tooling for Google Cloud: deploy the functions, register the webhook, audit.

Nothing here runs inside a function, and staging leaves this package out of every function's
source. ``infra/functions.json`` is the one description of the functions that this package and
the Terraform in ``infra/`` both read.
"""
