"""Who may do what: every staff page needs an account, some need an admin.

Editors write posts, incident updates and tags; admins also run servers and
accounts and restore revisions. Checked on the server for every request.
"""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort, request
from flask_login import current_user

from ..extensions import login_manager
from ..models import Role

# Endpoints a visitor without an account may reach on the staff side.
OPEN_ENDPOINTS = frozenset({"admin.sign_in"})


def require_staff():
    """Before every staff request: send anyone not signed in to the sign-in page."""
    if request.endpoint not in OPEN_ENDPOINTS and not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def role_required(*roles: Role) -> Callable:
    """Decorate a view so only accounts holding one of ``roles`` may use it (403 otherwise)."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403, description="This page is for admins; ask one if you need it changed.")
            return view(*args, **kwargs)
        return guarded
    return decorator


admin_required = role_required(Role.ADMIN)
