"""The Queue port: wake-up messages that start a drainer (and legacy thin event messages)."""
