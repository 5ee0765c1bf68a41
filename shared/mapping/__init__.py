"""Pure mappings from Stripe objects to HubSpot operations, one module per Stripe object.

A mapping never calls HubSpot: it returns operations, so that operations for one portal and
object type can be merged into batch calls.
"""
