"""Demo content: the reference company's ten servers, a dozen sample posts and one live check.

Every demo incident is over: each ends in a "Resolved" update, and one shows
a whole timeline (investigating, identified, resolved) with its impact and
its servers' state, so a fresh site starts "all operational".

The servers (codes, places, roles, public or internal) are facts from the
hosting company's status page; the posts were written for this project to show
what incident reports, maintenance notices and updates look like.

Only one demo service really exists wherever the demo runs: the status website
itself, which `make run` serves. NC042 ("Status website") gets an HTTP check of
its home page, so the runner shows a live state from the first minute. The
other public servers get no checks: their services do not exist here, and a
probe of an invented address would show an outage that is not one. They stay
OPERATIONAL "as listed; not probed", which is what staff declare by listing them.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select

from .checks.models import Check
from .extensions import db
from .models import (AffectedState, IncidentImpact, Post, PostKind, PostStatus, PostUpdate, Server, Tag, UpdateState,
                     Visibility)
from .plugins import get_plugins
from .probing import TlsMode
from .slugs import slugify, unique_slug
from .timeutil import utcnow

USA = "United States of America"
SERVERS = [
    # code, city, country, role, visibility
    ("NC023", "London", "United Kingdom", "Relay server", Visibility.INTERNAL),
    ("NC028", "Vancouver", "Canada", "Monitoring server", Visibility.INTERNAL),
    ("NC031", "New York", USA, "Web server", Visibility.INTERNAL),
    ("NC033", "Toronto", "Canada", "Primary nameserver", Visibility.PUBLIC),
    ("NC034", "Lusaka", "Zambia", "Phone server", Visibility.INTERNAL),
    ("NC035", "Sydney", "Australia", "Secondary nameserver", Visibility.PUBLIC),
    ("NC036", "Amsterdam", "Netherlands", "Mail server", Visibility.PUBLIC),
    ("NC040", "Toronto", "Canada", "Web server", Visibility.INTERNAL),
    ("NC041", "New York", USA, "Web server", Visibility.PUBLIC),
    ("NC042", "Seattle", USA, "Status website", Visibility.PUBLIC),
]

# (days ago, hour, title, kind, servers, tags, body)
POSTS = [
    (6, 9, "NC036: Sending mail refused by some mail programs", PostKind.INCIDENT, ["NC036"],
     ["email", "smtp", "tls certificate"],
     "<p>This morning some customers could not send mail through <strong>NC036</strong>: their mail programs "
     "refused the server's certificate on port 587. Incoming mail, collecting mail and webmail were not "
     "affected, and no mail was lost.</p><p>The timeline below tells what we found and when.</p>"),
    (2, 3, "NC041: Web server unreachable after upstream fibre cut", PostKind.INCIDENT, ["NC041"],
     ["web server", "network", "down time"],
     "<p>From 02:40 UTC websites hosted on <strong>NC041</strong> could not be reached from most networks. "
     "The server itself stayed up; a fibre cut between the data centre and one of its upstream providers "
     "took the routes away.</p><p>Traffic was moved to the second provider at 03:25 UTC and sites answered "
     "again from then on. Mail and DNS were not affected.</p>"),
    (5, 22, "Scheduled maintenance: mail server kernel update", PostKind.MAINTENANCE, ["NC036"],
     ["email", "maintenance", "reboot"],
     "<p>On Saturday at 23:00 UTC we will install a kernel security update on <strong>NC036</strong> and "
     "restart it. Expect up to ten minutes in which mail cannot be sent or collected.</p>"
     "<ul><li>Incoming mail is queued by other servers and delivered after the restart.</li>"
     "<li>Webmail will show a maintenance page during the window.</li></ul>"),
    (9, 14, "New TLS certificates for mail and web", PostKind.NOTICE, ["NC036", "NC041"],
     ["tls certificate", "email", "web server"],
     "<p>We renewed the certificates for the mail and web servers. If your mail program asks you to accept "
     "a new certificate, check that it was issued for the server name you use and accept it.</p>"),
    (13, 8, "NC033: Slow DNS answers for some domains", PostKind.INCIDENT, ["NC033", "NC035"],
     ["dns", "nameservers", "performance"],
     "<p>Between 06:10 and 07:05 UTC the primary nameserver answered slowly under a flood of queries for "
     "random sub-domains. The secondary in Sydney kept answering normally.</p>"
     "<h3>What we changed</h3><ul><li>Response rate limiting is now enabled on both nameservers.</li>"
     "<li>Zone transfers are checked every five minutes.</li></ul>"),
    (18, 1, "NC036: Delayed delivery of incoming mail", PostKind.INCIDENT, ["NC036"],
     ["email delivery", "spam", "mail server"],
     "<p>A spam filter update made the scanner time out on large attachments, and incoming messages "
     "waited in the queue for up to forty minutes. We rolled the update back at 01:50 UTC and the queue "
     "drained by 02:15 UTC. No mail was lost.</p>"),
    (25, 16, "Phone support hours over the holidays", PostKind.NOTICE, [], ["phone"],
     "<p>The support line is staffed from 08:00 to 16:00 UTC on weekdays over the holidays. E-mail support "
     "is answered as usual, and urgent outages are still handled around the clock.</p>"),
    (33, 4, "NC042: Status website moved to a new host", PostKind.MAINTENANCE, ["NC042"],
     ["migration", "web server"],
     "<p>The status website now runs on its own server in Seattle, away from the servers it reports on, so "
     "it stays reachable when they are not. Its address does not change.</p>"),
    (41, 10, "SMTP submission now requires STARTTLS on port 587", PostKind.NOTICE, ["NC036"],
     ["smtp", "tls", "email"],
     "<p>From the first of next month the mail server accepts passwords on port 587 only after STARTTLS. "
     "Most mail programs already do this; check that yours says <em>STARTTLS</em> for outgoing mail.</p>"
     "<ol><li>Open your account settings.</li><li>Find the outgoing (SMTP) server.</li>"
     "<li>Set the port to 587 and the security to STARTTLS.</li></ol>"),
    (52, 19, "NC035: Secondary nameserver behind on zone updates", PostKind.INCIDENT, ["NC035"],
     ["dns", "nameservers"],
     "<p>The secondary nameserver stopped taking zone transfers after a firewall change, so new DNS records "
     "took up to six hours to appear there. Transfers resumed at 19:40 UTC and both servers now serve the "
     "same serial.</p>"),
    (64, 2, "NC036: IMAP logins failing for some accounts", PostKind.INCIDENT, ["NC036"],
     ["imap", "email", "error messages"],
     "<p>Accounts whose names contain capital letters could not log in over IMAP after last night's update. "
     "We fixed the lookup at 02:35 UTC; POP and webmail were not affected.</p>"),
    (77, 12, "FTP access is moving to explicit FTPS", PostKind.NOTICE, ["NC041"], ["ftp", "tls"],
     "<p>Plain FTP sends your password unencrypted. Please switch your FTP program to <em>explicit FTP over "
     "TLS</em> on port 21; plain FTP logins will be refused after the end of the quarter.</p>"),
    (90, 6, "NC031: Web server retired", PostKind.NOTICE, ["NC031", "NC041"], ["web server", "migration"],
     "<p>All websites have moved from NC031 to NC041, and NC031 has been switched off. Nothing needs to "
     "change on your side: the DNS records were updated during the move.</p>"),
]

# How each demo incident went: (impact, servers' state, [(minutes after publication, state, text)]).
# The reports written after the fact end in one "Resolved" update when they were published.
TIMELINES = {
    "NC036: Sending mail refused by some mail programs": (IncidentImpact.MINOR, AffectedState.PARTIAL_OUTAGE, [
        (0, UpdateState.INVESTIGATING,
         "<p>Some customers get a certificate error when sending mail through <strong>NC036</strong>. Incoming "
         "mail and webmail work normally. We are investigating and will post an update here soon.</p>"),
        (28, UpdateState.IDENTIFIED,
         "<p>Yesterday's certificate renewal left the sending service on port 587 without its intermediate "
         "certificate, and stricter mail programs refuse the connection. We are installing the full chain "
         "now.</p>"),
        (74, UpdateState.RESOLVED,
         "<p>The full certificate chain is in place and every mail program we tried sends mail again. If yours "
         "still shows a certificate warning, close it and start it again. We apologise for the trouble.</p>"),
    ]),
    "NC041: Web server unreachable after upstream fibre cut": (IncidentImpact.MAJOR, AffectedState.MAJOR_OUTAGE, [
        (0, UpdateState.RESOLVED, "<p>Traffic runs through the second provider and every site on "
                                  "<strong>NC041</strong> answers. This incident is resolved.</p>"),
    ]),
    "NC033: Slow DNS answers for some domains": (IncidentImpact.MINOR, AffectedState.DEGRADED, [
        (0, UpdateState.RESOLVED, "<p>Both nameservers answer at their usual speed. This incident is "
                                  "resolved.</p>"),
    ]),
    "NC036: Delayed delivery of incoming mail": (IncidentImpact.MINOR, AffectedState.DEGRADED, [
        (0, UpdateState.RESOLVED, "<p>The queue is empty and mail is delivered as it arrives. This incident is "
                                  "resolved.</p>"),
    ]),
    "NC035: Secondary nameserver behind on zone updates": (IncidentImpact.MINOR, AffectedState.DEGRADED, [
        (0, UpdateState.RESOLVED, "<p>Both nameservers serve the same serial again. This incident is "
                                  "resolved.</p>"),
    ]),
    "NC036: IMAP logins failing for some accounts": (IncidentImpact.MINOR, AffectedState.PARTIAL_OUTAGE, [
        (0, UpdateState.RESOLVED, "<p>Every account can log in over IMAP again. This incident is resolved.</p>"),
    ]),
}


def add_timeline(post: Post) -> None:
    """Give a demo incident its impact, its servers' state and its updates, as TIMELINES tells them."""
    if post.title not in TIMELINES:
        return
    post.impact, post.affected_state, steps = TIMELINES[post.title]
    for minutes, state, body in steps:
        update = PostUpdate(state=state, created_at=post.published_at + timedelta(minutes=minutes))
        update.set_body(body)
        post.updates.insert(0, update)
    post.updated_at = post.updates[0].created_at


def load_demo(now: datetime | None = None) -> tuple[int, int]:
    """Add the demo servers and posts (skipping what already exists); return how many of each were added."""
    now = now or utcnow()
    servers = {s.code: s for s in db.session.scalars(select(Server))}
    added_servers = 0
    for order, (code, city, country, role, visibility) in enumerate(SERVERS, start=1):
        if code not in servers:
            servers[code] = Server(code=code, city=city, country=country, role=role, visibility=visibility,
                                   display_order=order * 10, notes="")
            db.session.add(servers[code])
            added_servers += 1

    tags = {t.name: t for t in db.session.scalars(select(Tag))}
    added_posts = 0
    for days_ago, hour, title, kind, server_codes, tag_names, body in POSTS:
        if db.session.scalar(select(Post.id).where(Post.title == title)) is not None:
            continue
        day = (now - timedelta(days=days_ago)).replace(hour=hour, minute=7 * hour % 60, second=hour * 3 % 60,
                                                       microsecond=0)
        post = Post(title=title, kind=kind, status=PostStatus.PUBLISHED, published_at=day, created_at=day,
                    updated_at=day, slug=unique_slug(title, _slug_taken, max_length=220))
        post.set_body(body)
        post.servers = [servers[c] for c in server_codes]
        post.tags = [tags.setdefault(name, Tag(name=name, slug=slugify(name))) for name in tag_names]
        add_timeline(post)
        db.session.add(post)
        db.session.flush()
        added_posts += 1
    db.session.commit()
    return added_servers, added_posts


SITE_CHECK = ("NC042", "Status website")
SITE_TEXT = "Systems at a Glance"


def add_site_check(site_url: str) -> bool:
    """Give NC042 an HTTP check of the status site at ``site_url``; False when it has one or cannot."""
    code, label = SITE_CHECK
    server = db.session.scalar(select(Server).where(Server.code == code))
    http = get_plugins().check_types.get("http")
    if server is None or http is None or any(c.label == label for c in server.checks):
        return False
    url = urlsplit(site_url)
    secure = url.scheme == "https"
    db.session.add(Check(
        server=server, type_name="http", label=label, host=url.hostname or "127.0.0.1",
        port=url.port or (443 if secure else 80), tls_mode=TlsMode.IMPLICIT if secure else TlsMode.NONE,
        settings=http.parse_settings({"path": url.path or "/", "expect_body": SITE_TEXT}),
        interval_seconds=30, timeout_seconds=5))
    db.session.commit()
    return True


def _slug_taken(slug: str) -> bool:
    return db.session.scalar(select(func.count()).where(Post.slug == slug)) > 0


def is_empty() -> bool:
    """True when the site has neither servers nor posts."""
    return (db.session.scalar(select(func.count(Server.id))) == 0
            and db.session.scalar(select(func.count(Post.id))) == 0)
