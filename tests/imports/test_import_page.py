"""The admin Import page: upload, see the dry run, confirm; admins only, CSRF on both steps."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ninerstatus.extensions import db
from ninerstatus.models import Post

from ..admin.accounts import ADMIN_EMAIL, EDITOR_EMAIL
from .wxr_files import FIXTURES, STATUS_BLOG, STATUS_BLOG_POSTS

_KEPT = re.compile(r'name="kept" type="hidden" value="([^"]+)"')


@pytest.fixture
def app_config():
    """A small upload limit, so the limit can be tested without a large file."""
    return {"IMPORT_MAX_BYTES": 64 * 1024}


def _post_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Post))


def _upload(auth, path=STATUS_BLOG, data: bytes | None = None, **fields):
    content = path.read_bytes() if data is None else data
    return auth.post("/admin/import", {"export": (io.BytesIO(content), "export.xml"), **fields},
                     content_type="multipart/form-data")


def _kept_files(app) -> list:
    folder = Path(app.instance_path) / "imports"
    return sorted(folder.glob("*.xml")) if folder.exists() else []


def test_editors_are_refused_the_import_page(app, auth):
    auth.login(EDITOR_EMAIL)
    assert auth.client.get("/admin/import").status_code == 403
    assert _upload(auth).status_code == 403
    assert _post_count(app) == 0 and _kept_files(app) == []


def test_admin_sees_the_dry_run_then_imports_on_confirming(app, auth):
    auth.login(ADMIN_EMAIL)
    page = auth.client.get("/admin/import").get_data(as_text=True)
    assert 'href="/admin/import" aria-current="page">Import</a>' in page
    preview = _upload(auth)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert f"Posts: {STATUS_BLOG_POSTS} would be imported" in text and "  - About us" in text
    assert _post_count(app) == 0
    kept = _KEPT.search(text).group(1)
    assert len(_kept_files(app)) == 1 and kept in _kept_files(app)[0].name
    done = auth.post("/admin/import/confirm", {"kept": kept, "all_to_me": ""})
    assert done.status_code == 200
    assert f"Posts: {STATUS_BLOG_POSTS} imported" in done.get_data(as_text=True)
    assert _post_count(app) == STATUS_BLOG_POSTS
    assert _kept_files(app) == []
    # The same confirmation again finds nothing to import.
    again = auth.post("/admin/import/confirm", {"kept": kept})
    assert again.status_code == 410 and _post_count(app) == STATUS_BLOG_POSTS


def test_all_to_me_makes_the_admin_the_author_of_every_post(app, auth):
    auth.login(ADMIN_EMAIL)
    kept = _KEPT.search(_upload(auth, all_to_me="y").get_data(as_text=True)).group(1)
    auth.post("/admin/import/confirm", {"kept": kept, "all_to_me": "y"})
    with app.app_context():
        assert {p.author.email for p in db.session.scalars(select(Post))} == {ADMIN_EMAIL}


def test_confirming_needs_a_valid_csrf_token(app, auth):
    auth.login(ADMIN_EMAIL)
    kept = _KEPT.search(_upload(auth).get_data(as_text=True)).group(1)
    refused = auth.client.post("/admin/import/confirm", data={"kept": kept, "csrf_token": "forged"})
    assert refused.status_code == 400
    assert _post_count(app) == 0 and len(_kept_files(app)) == 1


def test_cancel_deletes_the_kept_file(app, auth):
    auth.login(ADMIN_EMAIL)
    kept = _KEPT.search(_upload(auth).get_data(as_text=True)).group(1)
    cancelled = auth.post("/admin/import/confirm", {"kept": kept, "cancel": "y"})
    assert "Import cancelled" in cancelled.get_data(as_text=True)
    assert _kept_files(app) == [] and _post_count(app) == 0


@pytest.mark.parametrize("kept", ["../../ninerstatus", "x" * 32 + "/..", ""])
def test_a_name_the_site_did_not_make_is_never_looked_up(app, auth, kept):
    auth.login(ADMIN_EMAIL)
    response = auth.post("/admin/import/confirm", {"kept": kept})
    assert response.status_code == 410 and _post_count(app) == 0


def test_a_hostile_file_is_refused_with_its_reason_and_not_kept(app, auth):
    auth.login(ADMIN_EMAIL)
    response = _upload(auth, FIXTURES / "billion-laughs.xml")
    assert response.status_code == 422
    assert "declares XML entities" in response.get_data(as_text=True)
    assert _kept_files(app) == [] and _post_count(app) == 0


def test_a_file_over_the_limit_is_refused(app, auth):
    auth.login(ADMIN_EMAIL)
    response = _upload(auth, data=STATUS_BLOG.read_bytes() * 8)
    assert response.status_code == 413
    assert _kept_files(app) == [] and _post_count(app) == 0
