"""Local HTTP doubles of Stripe, HubSpot, Cloud KMS and Secret Manager that keep state and speak
the real wire formats, driven through the real client libraries. Test infrastructure for the
tests, the sandbox, the demo and the bench: never deployed, never imported by ``shared/``."""
