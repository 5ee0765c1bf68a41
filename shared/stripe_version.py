"""The one Stripe API version Omniroo speaks, named here and nowhere else.

Stripe renders every object, and every event it sends to an endpoint, in one API version. Omniroo's
readers (``shared/sync/collect.py``, ``shared/mapping``, ``shared/billing``) are written for this
one: every client sends it as ``Stripe-Version``, the webhook endpoint is registered with it
(``api_version``), and ``make run`` prints it. It is the version the pinned ``stripe`` library
sends by default (``stripe.api_version``; a test fails when the two drift apart), so bumping the
library means re-checking the readers against its types first (docs/stripe-fields.md).
"""

API_VERSION = "2026-10-28.endive"
