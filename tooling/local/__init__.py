"""The embedded mode: every function in one local process, and the sandbox of doubles."""
