"""The Queue port: thin event messages from the webhook to the push worker."""
