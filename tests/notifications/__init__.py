"""Tests of the notification outbox and the bundled e-mail and webhook notifiers."""
