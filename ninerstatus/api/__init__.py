"""The read-only JSON API: public data for scripts, status clients and the site's live widgets."""
from flask import Blueprint

bp = Blueprint("api", __name__)

from . import v2, views  # noqa: E402,F401  (routes register themselves on bp)
