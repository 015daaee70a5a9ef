"""The staff side under /admin: sign-in, posts and incident updates, tags, servers and subscribers.

Every view here needs a signed-in account (checked before each request, so a
new view is closed until it says otherwise); admin-only views say so with
``@admin_required``.
"""
from flask import Blueprint

from ..accounts.roles import require_staff

bp = Blueprint("admin", __name__)
bp.before_request(require_staff)

# Routes register themselves on bp.
from . import (account, checks, dashboard, errors, imports, locations, posts, revisions, servers,  # noqa: E402,F401
               subscribers, tags, updates, uploads, users)
