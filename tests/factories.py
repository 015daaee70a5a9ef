"""Small builders of test data; each commits what it makes and returns it."""
from __future__ import annotations

from datetime import datetime, timedelta

from ninerstatus.extensions import db
from ninerstatus.models import Post, PostKind, PostStatus, Server, Tag, Visibility
from ninerstatus.slugs import slugify
from ninerstatus.timeutil import utcnow


def make_server(code: str = "NC036", visibility: Visibility = Visibility.PUBLIC, **fields) -> Server:
    """Add a server."""
    server = Server(code=code, role=fields.pop("role", "Mail server"), city=fields.pop("city", "Amsterdam"),
                    country=fields.pop("country", "Netherlands"), visibility=visibility,
                    display_order=fields.pop("display_order", 0), notes=fields.pop("notes", ""), **fields)
    db.session.add(server)
    db.session.commit()
    return server


def make_tag(name: str) -> Tag:
    """Return the tag ``name``, adding it when new."""
    tag = db.session.scalar(db.select(Tag).where(Tag.name == name))
    if tag is None:
        tag = Tag(name=name, slug=slugify(name))
        db.session.add(tag)
    return tag


def make_post(title: str = "A post", body: str = "<p>Body</p>", *, status: PostStatus = PostStatus.PUBLISHED,
              published_at: datetime | None = None, age: timedelta = timedelta(hours=1),
              tags: tuple[str, ...] = (), servers: tuple[Server, ...] = (),
              kind: PostKind = PostKind.INCIDENT, slug: str | None = None) -> Post:
    """Add a post, published ``age`` ago unless ``published_at`` says otherwise."""
    when = published_at if published_at is not None else utcnow() - age
    post = Post(title=title, slug=slug or slugify(title, 200), status=status, kind=kind,
                published_at=None if status is PostStatus.DRAFT else when)
    post.set_body(body)
    post.tags = [make_tag(t) for t in tags]
    post.servers = list(servers)
    db.session.add(post)
    db.session.commit()
    return post


def main_of(response) -> str:
    """The ``<main>`` part of a page, without the sidebar that lists recent posts everywhere."""
    page = response.get_data(as_text=True)
    return page[page.index('<main id="content">'):page.index("</main>")]
