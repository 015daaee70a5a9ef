"""Images in posts, served from the image store (see uploads.py).

Only names the store writes are looked up, so no other file in or around
the folder can be reached. Every image is served, including those in drafts
not yet published: a name is a 128-bit hash of the picture, which nobody can
guess, and staff must be able to see a draft's images in the editor and the
preview. An image removed from a post stays in the store (another post may
show the same picture).

A stored file never changes under its name, so browsers and proxies may keep
it for a year. The answer is not marked ``public``: that keeps it out of the
site's own page cache (public/pagecache.py), which holds pages, not pictures.
"""
from __future__ import annotations

from flask import abort, current_app, send_from_directory

from ..uploads import MEDIA_TYPES, is_stored_name, uploads_folder
from . import bp

#: Nothing in an image answer may run, load or be framed, should a browser ever read it as a document.
#: Inline styles only: a browser showing an image on its own styles that page itself.
IMAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"
KEPT_FOR_SECONDS = 365 * 24 * 3600


@bp.route("/uploads/<name>")
def uploaded_image(name: str):
    """Serve an image added to a post."""
    if not is_stored_name(name):
        abort(404, description="There is no image at this address.")
    response = send_from_directory(uploads_folder(current_app), name,
                                   mimetype=MEDIA_TYPES[name.rsplit(".", 1)[1]], max_age=KEPT_FOR_SECONDS)
    response.headers["Content-Disposition"] = "inline"
    response.headers["Content-Security-Policy"] = IMAGE_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.immutable = True
    response.cache_control.public = False
    return response
