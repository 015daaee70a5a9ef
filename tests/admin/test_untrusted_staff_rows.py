"""Every stored row is untrusted on the staff side too: rows written with raw SQL, as a hand edit, an older
release or a bug could leave them, never make a staff page or button answer 500."""
from __future__ import annotations

import html

from sqlalchemy import text

from ninerstatus.extensions import db

from .test_dashboard import SUGGESTION, dashboard, post_with_suggestion, read_post, section


def run_sql(app, statement: str) -> None:
    """Change rows as a database shell would."""
    with app.app_context():
        db.session.execute(text(statement))
        db.session.commit()


def test_a_suggested_update_naming_no_state_is_flagged_refused_with_a_message_and_can_be_dismissed(app, auth):
    post_id = post_with_suggestion(app)
    run_sql(app, f"UPDATE posts SET pending_update_state = 'rumoured' WHERE id = {post_id}")
    auth.login_editor()
    suggested = section(dashboard(auth), "suggested-updates", "checks-in-trouble")
    assert "Rumoured" in suggested and "not a state an update can have: dismiss it" in suggested
    response = auth.post(f"/admin/dashboard/posts/{post_id}/suggested-update/publish", follow_redirects=True)
    assert response.status_code == 200
    assert ("The suggested update on “NC036: Mail server outage” names no state an update can have (“rumoured”), "
            "so it was not published") in html.unescape(response.get_data(as_text=True))
    assert read_post(app, post_id)["updates"] == [] and read_post(app, post_id)["pending"] == ("rumoured", SUGGESTION)
    auth.post(f"/admin/dashboard/posts/{post_id}/suggested-update/dismiss")
    assert read_post(app, post_id)["pending"] == (None, None)
