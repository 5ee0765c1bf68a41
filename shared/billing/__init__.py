"""Billing metrics: the numbers sales teams see, from Stripe objects as the API returns them.

Pure functions only (no I/O, no clock: ``now`` comes in as seconds since the epoch).
``money`` turns minor units into HubSpot numbers, ``mrr`` prices one subscription, ``payments``
works out lifetime value and the last payment (charges, disputes, invoices), ``metrics`` derives
a customer's contact properties from all of them.
"""
