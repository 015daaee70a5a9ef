"""The staff side under /admin: sign-in, posts, servers and checks.

Mounted now so URLs are reserved and the layout is fixed; its views arrive
with the staff accounts.
"""
from flask import Blueprint

bp = Blueprint("admin", __name__)
