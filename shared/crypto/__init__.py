"""Envelope encryption of secrets at rest, over a key service port (Cloud KMS or a local key)."""
