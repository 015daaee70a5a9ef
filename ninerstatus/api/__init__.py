"""The read-only JSON API: public data for scripts, status clients and the site's live widgets."""
from flask import Blueprint

#: Where the API is mounted; every address under it answers in JSON, errors included.
URL_PREFIX = "/api"

bp = Blueprint("api", __name__, url_prefix=URL_PREFIX)


def is_api_path(path: str) -> bool:
    """True for ``path`` under the API, whether or not a route matches it."""
    return path == URL_PREFIX or path.startswith(URL_PREFIX + "/")

from . import v2, views  # noqa: E402,F401  (routes register themselves on bp)
