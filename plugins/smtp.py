"""Check plugin (in progress)."""
