"""The visitors' site: posts, tags, servers, archive, search and feeds."""
from flask import Blueprint

bp = Blueprint("public", __name__)

from . import feeds, locations, maintenance, old_links, uploads, views  # noqa: E402,F401  (routes register themselves on bp)
from .links import init_links  # noqa: E402


@bp.record_once
def _init_links(state) -> None:
    """Every template's links built once per worker (links.py), from when the visitors' site is mounted."""
    init_links(state.app)
