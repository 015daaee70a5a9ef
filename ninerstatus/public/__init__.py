"""The visitors' site: posts, tags, servers, archive, search and feeds."""
from flask import Blueprint

bp = Blueprint("public", __name__)

from . import feeds, locations, maintenance, old_links, uploads, views  # noqa: E402,F401  (routes register themselves on bp)
