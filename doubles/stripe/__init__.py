"""A local, stateful stand-in for the Stripe API (see ``doubles.stripe.app`` for the parts)."""

from doubles.stripe.app import StripeDouble

__all__ = ["StripeDouble"]
