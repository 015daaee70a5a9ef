"""``export_site``: the whole public site written as files into a new generation, then swapped in.

What is written: every document ``documents.site_documents`` lists, drawn by
the mirror's own application (``rendering.py``); the site's public assets
(not the staff editor's); the images that published posts show; and
``404.html``, the site's "page not found" page for the web server to send.

A document the site cannot draw (a row it reports as bad, a post unpublished
while the export runs) is left out and counted, and the export goes on: a
mirror with one page missing is worth more than no fresh mirror at all.
"""
from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Post, PostUpdate
from ..public.sidebar import EXTENSION_KEY as SIDEBAR_CACHE
from ..timeutil import utcnow
from ..uploads import NAME_PATTERN, UPLOADS_PATH, uploads_folder
from .documents import Document, site_documents
from .forms import unanswerable_forms
from .publish import publishing
from .rendering import ENVIRON_KEY, BaseUrl, MirrorRendering

log = logging.getLogger(__name__)

#: Static folders only staff pages use: the mirror has no staff side.
STAFF_ASSETS = ("admin", "vendor")
#: Asked for to draw the site's 404 page: no route answers it.
NOT_FOUND_PROBE = "/404.html"
_IMAGE_NAME = re.compile(re.escape(UPLOADS_PATH) + f"({NAME_PATTERN})")
#: An image's source as the sanitiser keeps it in a post: the store's path under the root the live site had
#: when it was written (markup.py), which need not be the mirror's.
_IMAGE_SOURCE = re.compile(f'src="(?:/[\\w.~-]+)*{re.escape(UPLOADS_PATH)}({NAME_PATTERN})"'.encode())


@dataclass
class ExportResult:
    """What one export wrote: where, when, how many files, and the documents it had to leave out."""

    generation: Path
    as_of: datetime
    files: int = 0
    skipped: list[str] = field(default_factory=list)
    #: Pages carrying a form the mirror cannot answer (see forms.py), with the forms' actions.
    dead_forms: dict[str, list[str]] = field(default_factory=dict)


class MirrorSite:
    """The site drawn for the mirror at ``base``: one application, reused by every export of a service.

    :param app: the mirror's application (``rendering.mirror_app``).
    :param live_url: the live site's address (``SITE_URL``), where forms are sent; "" when unknown.
    """

    def __init__(self, app: Flask, base: BaseUrl, live_url: str = "") -> None:
        self.app = app
        self.base = base
        self.live_url = live_url.rstrip("/")
        self.client = app.test_client(use_cookies=False)

    def close(self) -> None:
        """Close the mirror's database connections (its application has its own pool)."""
        with self.app.app_context():
            db.engine.dispose()

    def get(self, target: str, rendering: MirrorRendering):
        """The site's answer to ``target`` (an address on its root), drawn for the mirror."""
        return self.client.get(target, base_url=self.base.url, environ_base={ENVIRON_KEY: rendering})

    def documents(self) -> list[Document]:
        """Every document to write, as the database lists them now."""
        with self.app.test_request_context("/", base_url=f"{self.base.origin}/"):
            return list(site_documents())

    def export(self, target: Path, now: datetime | None = None) -> ExportResult:
        """Write the whole site into a new generation and swap it in as ``target``."""
        rendering = MirrorRendering(now or utcnow(), self.live_url)
        sidebars = self.app.extensions.get(SIDEBAR_CACHE)
        if sidebars is not None:
            sidebars.clear()
        with publishing(target) as generation:
            result = ExportResult(generation, rendering.as_of)
            for document in self.documents():
                self._write_document(generation, document, rendering, result)
            self._write_not_found(generation, rendering, result)
            result.files += copy_assets(self.app, generation)
            with self.app.app_context():
                result.files += copy_images(current_app, generation)
        return result

    def _write_document(self, generation: Path, document: Document, rendering: MirrorRendering,
                        result: ExportResult) -> None:
        try:
            file = generation / document.file
        except ValueError as error:  # a slug or code stored with ".." and such
            log.warning("mirror: %s; left out of this export", error)
            result.skipped.append(document.request_target)
            return
        response = self.get(document.request_target, rendering)
        if response.status_code != 200:
            log.warning("mirror: %s answered %s; left out of this export", document.request_target,
                        response.status_code)
            result.skipped.append(document.request_target)
            return
        page = self.own_images(response.get_data())
        if document.kind == "html" and b"<form" in page:
            dead = unanswerable_forms(page, self.live_url)
            if dead:
                log.warning("mirror: %s has forms nothing can answer: %s", document.mirror_path, ", ".join(dead))
                result.dead_forms[document.mirror_path] = dead
        write_file(file, page)
        result.files += 1

    def own_images(self, data: bytes) -> bytes:
        """``data`` with post images sourced from the mirror's copy of the store.

        The one rewrite of drawn markup: post bodies are stored HTML, drawn as
        they were saved, so their image sources name the live site's root.
        """
        return _IMAGE_SOURCE.sub(lambda m: b'src="' + f"{self.base.root}{UPLOADS_PATH}".encode() + m[1] + b'"', data)

    def _write_not_found(self, generation: Path, rendering: MirrorRendering, result: ExportResult) -> None:
        response = self.get(NOT_FOUND_PROBE, rendering)
        if response.status_code != 404:
            raise RuntimeError(f"the site answered {NOT_FOUND_PROBE} with {response.status_code}, not its 404 page")
        write_file(generation / "404.html", response.get_data())
        result.files += 1


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` at ``path``, making its folders, readable by the web server's user."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def copy_assets(app: Flask, generation: Path) -> int:
    """Copy the site's public static files to ``static/`` of the generation; return how many."""
    source = Path(app.static_folder)
    destination = generation / app.static_url_path.strip("/")
    shutil.copytree(source, destination, ignore=lambda folder, names: (
        [n for n in names if n in STAFF_ASSETS] if Path(folder) == source else []))
    return sum(1 for p in destination.rglob("*") if p.is_file())


def published_image_names() -> set[str]:
    """The stored images that visible posts and their updates show (a draft's images stay unlisted)."""
    bodies = list(db.session.scalars(select(Post.body_html).where(Post.visible_clause())))
    bodies += db.session.scalars(select(PostUpdate.body_html).join(Post, Post.id == PostUpdate.post_id)
                                 .where(Post.visible_clause()))
    return {name for body in bodies for name in _IMAGE_NAME.findall(body or "")}


def copy_images(app: Flask, generation: Path) -> int:
    """Copy the images published posts show into ``uploads/``; a missing file is reported and skipped."""
    folder = uploads_folder(app)
    copied = 0
    for name in sorted(published_image_names()):
        source = folder / name
        if not source.is_file():
            log.warning("mirror: image %s is shown by a post but missing from %s", name, folder)
            continue
        write_file(generation / UPLOADS_PATH.strip("/") / name, source.read_bytes())
        copied += 1
    return copied
