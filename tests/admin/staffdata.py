"""A little of everything the staff side manages, and the URLs of every rule built against it.

The meta-tests walk ``app.url_map`` and need real values for each rule's
arguments; this module makes the objects and fills the arguments by name.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.models import PostRevision, PostStatus, PostUpdate, Tag, UpdateState

from ..factories import make_post, make_server

# Plausible input for every staff form (a field a form does not have is ignored by it).
FORM_DATA = {
    "title": "Changed", "body": "<p>Changed</p>", "kind": "incident", "tags": "new-tag", "action": "publish",
    "state": "resolved", "code": "NEW1", "role": "Web", "city": "Oslo", "country": "Norway",
    "visibility": "internal", "display_order": "5", "notes": "n", "name": "renamed", "slug": "renamed",
    "target": "1", "direction": "up", "current": "x", "new": "y" * 12, "repeat": "y" * 12,
    "email": "admin@example.net", "password": "correct horse battery staple",
}

# Arguments whose values do not come from the database.
FIXED_ARGUMENTS = {"fmt": "rss", "year": 2018, "month": 8, "filename": "css/site.css", "type_name": "banner"}


@dataclass
class StaffData:
    """Ids and keys of one of each staff-managed object."""

    ids: dict[str, int]
    keys: dict[str, str]


def make_staff_data() -> StaffData:
    """Add a server, two tags, a published post with an update and a revision, and a draft."""
    server = make_server("NC036")
    make_server("NC041", display_order=10)
    post = make_post("Mail delayed", tags=("mail", "queue"), servers=(server,))
    post.updates.append(PostUpdate(state=UpdateState.MONITORING, body_html="<p>Watching.</p>"))
    post.revisions.append(PostRevision(title=post.title, body_html=post.body_html))
    make_post("Unfinished", status=PostStatus.DRAFT)
    check = Check(server=server, type_name="banner", host="127.0.0.1", port=2525, settings={})
    db.session.add(check)
    db.session.commit()
    tag = db.session.scalar(select(Tag).where(Tag.name == "mail"))
    return StaffData(
        ids={"post_id": post.id, "update_id": post.updates[0].id, "revision_id": post.revisions[0].id,
             "server_id": server.id, "tag_id": tag.id, "check_id": check.id},
        keys={"slug": post.slug, "code": server.code},
    )


def build_url(app, rule, data: StaffData) -> str:
    """The path of ``rule`` with every argument filled from ``data`` (1 for ids it does not know)."""
    values = {}
    for name in rule.arguments:
        if name in FIXED_ARGUMENTS:
            values[name] = FIXED_ARGUMENTS[name]
        elif name in data.keys:
            values[name] = data.keys[name]
        else:
            values[name] = data.ids.get(name, 1)
    with app.test_request_context():
        return app.url_for(rule.endpoint, **values)


def has_unknown_arguments(rule, data: StaffData) -> bool:
    """True when ``rule`` takes an argument this module has no real value for."""
    return any(name not in FIXED_ARGUMENTS and name not in data.keys and name not in data.ids
               for name in rule.arguments)


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, to prove a request changed nothing."""
    # Sorted here, not in SQL: some columns (JSON) have no order in PostgreSQL.
    return {table.name: sorted((tuple(r) for r in db.session.execute(select(table))), key=repr)
            for table in db.metadata.sorted_tables}


def state_changing_rules(app):
    """Every rule that accepts POST, PUT, PATCH or DELETE."""
    return [rule for rule in app.url_map.iter_rules() if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}]
