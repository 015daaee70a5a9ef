"""Visitors' e-mail subscriptions: double opt-in, mails for published posts and updates, one-click leave.

``models`` holds subscribers and broadcasts, ``tokens`` the signed links,
``views`` the visitors' pages, ``mails`` what is sent, ``fanout`` how a
broadcast becomes one outbox message per subscriber at the admin's rate, and
``delivery`` the outbox channel that hands them to the mail server.
"""
from flask import Blueprint

bp = Blueprint("subscriptions", __name__)

from . import views  # noqa: E402,F401  (routes register themselves on bp)
