"""The Import page (admins only): a WordPress export moved in without a shell, in two steps.

1. The admin uploads the export (at most ``IMPORT_MAX_BYTES``). The file is
   kept in the instance folder under a random name, and a dry run of it is
   shown: what would be imported, updated and skipped, and the warnings.
2. The admin confirms (or cancels) from that page; only then is it imported,
   in one transaction, and the file deleted.

Between the two steps only the random name travels, in the confirming form:
the file itself stays on the server, and a name that is not one the site
could have made is never looked up. Kept files older than a day (an admin who
never confirmed) are deleted at the next upload.
"""
from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from flask import current_app, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField

from ..accounts.roles import admin_required
from ..imports.summary import ImportSummary
from ..imports.wordpress import ImportConflict, ImportOptions, ImportRefused, import_wordpress
from ..intake import takes_bodies_up_to
from ..uploads import describe_bytes
from . import bp
from .errors import redisplays_form

_KEPT_NAME = re.compile(r"\A[A-Za-z0-9_-]{32}\Z")
#: Seconds an uploaded export waits for its confirmation.
KEEP_SECONDS = 24 * 3600


class ImportUploadForm(FlaskForm):
    """The export file, and whether every post goes to the admin importing it."""

    export = FileField("WordPress export file (.xml)", validators=[FileRequired("Choose the export file.")])
    all_to_me = BooleanField("Make me the author of every post (instead of matching authors by e-mail address)")


class ImportConfirmForm(FlaskForm):
    """The kept file's name and the choice made with the upload."""

    kept = HiddenField()
    all_to_me = HiddenField()


def _folder() -> Path:
    return Path(current_app.instance_path) / "imports"


def _kept_path(name: str) -> Path | None:
    """The kept upload named ``name``, or None when the name is not one the site made or the file is gone."""
    if not _KEPT_NAME.match(name or ""):
        return None
    path = _folder() / f"{name}.xml"
    return path if path.is_file() else None


def _keep(upload) -> str:
    """Save ``upload`` under a new random name; delete uploads that waited too long. Returns the name."""
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.xml"):
        try:
            if old.stat().st_mtime < time.time() - KEEP_SECONDS:
                old.unlink()
        except FileNotFoundError:  # another request cleaned it meanwhile
            pass
    name = secrets.token_urlsafe(24)
    upload.save(folder / f"{name}.xml")
    return name


def _options(all_to_me: bool, dry_run: bool) -> ImportOptions:
    return ImportOptions(dry_run=dry_run, author_email=current_user.email if all_to_me else None)


def _page(form, status: int = 200, **context):
    return render_template("admin/imports/upload.html", form=form,
                           limit=describe_bytes(current_app.config["IMPORT_MAX_BYTES"]), **context), status


@bp.get("/import")
@admin_required
def import_page():
    """Upload a WordPress export to see what importing it would do."""
    return _page(ImportUploadForm())


@bp.post("/import")
@admin_required
@takes_bodies_up_to("IMPORT_MAX_BYTES")
@redisplays_form
def preview_import():
    """Keep the uploaded export and show the dry run of importing it."""
    form = ImportUploadForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    name = _keep(form.export.data)
    try:
        summary = import_wordpress(_folder() / f"{name}.xml", _options(form.all_to_me.data, dry_run=True))
    except (ImportRefused, ImportConflict) as problem:
        (_folder() / f"{name}.xml").unlink(missing_ok=True)
        return _page(form, 422, problem=str(problem))
    confirm = ImportConfirmForm(kept=name, all_to_me="y" if form.all_to_me.data else "")
    return render_template("admin/imports/summary.html", summary=summary, confirm=confirm,
                           file_name=form.export.data.filename)


@bp.post("/import/confirm")
@admin_required
def confirm_import():
    """Import the export kept at the first step (or forget it, when cancelled)."""
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        return _page(ImportUploadForm(), 400, problem="This confirmation had expired; upload the file again.")
    path = _kept_path(form.kept.data)
    if path is None:
        return _page(ImportUploadForm(), 410, problem="This upload is no longer here (imported or cancelled "
                                                      "already, or kept too long); upload the file again.")
    if "cancel" in request.form:
        path.unlink(missing_ok=True)
        return _page(ImportUploadForm(), problem=None, notice="Import cancelled; the uploaded file is deleted.")
    try:
        summary: ImportSummary = import_wordpress(path, _options(bool(form.all_to_me.data), dry_run=False))
    except (ImportRefused, ImportConflict) as problem:
        return _page(ImportUploadForm(), 409, problem=str(problem))
    finally:
        path.unlink(missing_ok=True)
    return render_template("admin/imports/summary.html", summary=summary, confirm=None, file_name=None)
