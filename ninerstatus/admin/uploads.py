"""Adding an image to a post: the editor sends the file here and puts the answer's address in the text.

The body is the image itself (no form around it), with the page's CSRF token
in the ``X-CSRFToken`` header. Every answer is JSON: the stored image's
address and size (201), or an ``error`` that the editor shows the writer:
413 too large (a body declared larger than ``UPLOAD_MAX_BYTES`` is refused
before any of it is read), 415 not a format the site takes, 422 empty or
unreadable. A 400 only ever means the page's CSRF token was refused, which
the editor answers by asking for a reload.
"""
from __future__ import annotations

from flask import current_app, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from ..intake import takes_bodies_up_to
from ..public.errors import handle_http_error
from ..uploads import ImageRefused, store_image, too_large, uploads_folder
from . import bp


@bp.post("/uploads")
@takes_bodies_up_to("UPLOAD_MAX_BYTES")
def upload_image():
    """Store an image for a post and answer with its address."""
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    try:
        image = store_image(request.stream.read(limit + 1), uploads_folder(current_app), max_bytes=limit,
                            max_pixels=current_app.config["UPLOAD_MAX_PIXELS"])
    except ImageRefused as refusal:
        return {"error": str(refusal)}, refusal.status
    return {"url": url_for("public.uploaded_image", name=image.name), "width": image.width,
            "height": image.height}, 201


@bp.errorhandler(RequestEntityTooLarge)
def refused_large_body(error: RequestEntityTooLarge):
    """Tell the editor in its own words that an image is too large; other staff pages get the error page."""
    if request.endpoint == "admin.upload_image":
        return {"error": too_large(current_app.config["UPLOAD_MAX_BYTES"])}, 413
    return handle_http_error(error)
