"""Telling people about state changes: an outbox the runner drains, and the bundled notifiers."""
