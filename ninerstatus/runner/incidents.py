"""Incident posts drafted by the probes, and the updates they suggest on publishing and on recovery.

Nothing here is ever published: a draft waits for staff to review it, and
the resolved update waits on the post (``pending_update_state`` and
``pending_update_html``) until staff publish it as a real update. Until
then the draft follows its server's trouble (see redrafting.py): the
runner remembers the words it gave it (``drafted_digest``) to tell them
from staff's.

Everything written here is for visitors: which server, its role and place,
which of its services fail, since when, and what that means in plain words.
The server is named with its role and place once, in the draft's first
sentence; every later mention, updates included, uses only its code.
What only staff need (addresses and ports, error kinds, what the server
said, the reminder to review) is never put in a post: staff read it where
they review the draft (see ``ninerstatus.admin.findings``). The whole body is
sanitised by ``Post.set_body``, like anything staff write.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import escape
from sqlalchemy import func, select

from ..checks.located import LocatedResult, read_located
from ..checks.models import Check
from ..extensions import db
from ..markup import sanitise_html
from ..models import AffectedState, IncidentImpact, Post, PostKind, PostStatus, Server, UpdateState
from ..plugins import get_plugins
from ..probing import ErrorKind, Status
from ..slugs import unique_slug
from ..timeutil import format_timestamp
from .damping import state_name

PROBE_ORIGIN = "probe"
#: The confirmed server states that draft an incident, as a title and as a sentence says them.
TITLE_WORDS = {"critical": "outage", "partial_outage": "partial outage", "warning": "degraded"}
BODY_WORDS = {"critical": "down", "partial_outage": "partly down", "warning": "degraded"}
#: What each way of failing means to a customer of the service.
PLAIN_WORDS = {
    ErrorKind.RESOLVE_FAILED: "its name cannot be looked up in the DNS",
    ErrorKind.CONNECT_REFUSED: "it refuses connections",
    ErrorKind.CONNECT_TIMEOUT: "it does not accept connections in time",
    ErrorKind.TLS_HANDSHAKE: "secure (TLS) connections to it fail",
    ErrorKind.CERT_UNTRUSTED: "its security certificate is not trusted",
    ErrorKind.CERT_HOSTNAME: "its security certificate does not match its name",
    ErrorKind.CERT_EXPIRING: "its security certificate expires soon",
    ErrorKind.CERT_EXPIRED: "its security certificate has expired",
    ErrorKind.STARTTLS_UNAVAILABLE: "it does not offer an encrypted connection",
    ErrorKind.PROTOCOL_ERROR: "it breaks off the conversation",
    ErrorKind.UNEXPECTED_REPLY: "it answers with an error",
    ErrorKind.EXPECTATION_FAILED: "it does not answer as expected",
    ErrorKind.READ_TIMEOUT: "it stops answering",
    ErrorKind.AUTH_FAILED: "it refuses to sign our test account in",
}
#: The impact a drafted incident proposes for each confirmed server state; staff may change it before publishing.
DRAFT_IMPACT = {"critical": IncidentImpact.MAJOR, "partial_outage": IncidentImpact.MAJOR,
                "warning": IncidentImpact.MINOR}
#: What a standard timeline update says in each state, about ``{subject}`` (already escaped HTML).
STATE_SENTENCES = {
    UpdateState.INVESTIGATING: "We are investigating {subject}. We will post an update here as soon as we know more.",
    UpdateState.IDENTIFIED: "We have found the cause of {subject} and are working on a fix.",
    UpdateState.MONITORING: "A fix for {subject} is in place, and we are watching to make sure it holds.",
    UpdateState.RESOLVED: "{Subject} is resolved: everything works normally again. Thank you for your patience.",
}
#: Said instead when a check failed in a way not listed above.
STATE_WORDS = {Status.CRITICAL: "it does not work", Status.WARNING: "it works, but not as it should"}
#: Ways of failing that a customer calls "unreachable": no connection at all, or no answer.
UNREACHABLE = (ErrorKind.RESOLVE_FAILED, ErrorKind.CONNECT_REFUSED, ErrorKind.CONNECT_TIMEOUT, ErrorKind.READ_TIMEOUT)
#: Networks named one by one in a draft; the rest are counted.
NETWORKS_NAMED = 3
#: The longest title a post can hold.
TITLE_LENGTH = 200


@dataclass(frozen=True)
class Reach:
    """Where a check probed from several locations fails, and where it works, by the locations' confirmed states."""

    failing: tuple[LocatedResult, ...]
    working: tuple[LocatedResult, ...]
    # True when a quorum of the locations agrees that it is down: an outage, even if some still reach it.
    down: bool = False

    @property
    def partial(self) -> bool:
        """True when it fails from some locations and works from others."""
        return bool(self.failing) and bool(self.working)

    @property
    def regional(self) -> bool:
        """True when it fails from some locations only, too few to call it down."""
        return self.partial and not self.down

    @property
    def networks(self) -> str:
        """The failing locations as customers place themselves: "MTN (Lusaka) and Vodacom (Durban)"."""
        names = [item.network_words for item in self.failing[:NETWORKS_NAMED]]
        if len(self.failing) > NETWORKS_NAMED:
            names.append(f"{len(self.failing) - NETWORKS_NAMED} more")
        return " and ".join(filter(None, (", ".join(names[:-1]), names[-1])))

    @property
    def unreachable(self) -> bool:
        """True when no failing location could connect or get an answer (rather than getting a wrong one)."""
        return all(item.error_kind in UNREACHABLE for item in self.failing)

    @property
    def verb(self) -> str:
        """What the service does from the failing locations, as a sentence says it."""
        return "is unreachable" if self.unreachable else "does not work"

    @property
    def meaning(self) -> str | None:
        """What the first failing location's way of failing means to a customer, when it is a known one."""
        kind = self.failing[0].error_kind
        return PLAIN_WORDS.get(kind) if kind else None


def open_incident(server: Server, state: str, failing: list[Check], now: datetime) -> Post:
    """Link ``server`` to an incident post about its trouble: a new draft, or one whose recovery is unconfirmed.

    A server that fails again before staff have published the resolved
    update gets its previous post back instead of a second draft.
    """
    post = _awaiting_resolution(server)
    if post is not None:
        post.pending_update_state = post.pending_update_html = None
    else:
        post = _draft(server, state, failing, now)
    server.incident_post = post
    return post


def suggest_resolved(server: Server, now: datetime) -> None:
    """Put a "resolved" update on ``server``'s incident post for staff to publish, and unlink the post."""
    post = server.incident_post
    post.pending_update_state = "resolved"
    post.pending_update_html = sanitise_html(
        f"<p><strong>{escape(server.code)}</strong> is operational again since "
        f"{escape(format_timestamp(now))}: our monitoring sees all its services working.</p>")
    post.updated_at = now
    server.incident_post = None


def standard_update_html(post: Post, state: UpdateState) -> str:
    """A timeline update's text in ``state`` when staff wrote none (for ``set_body``).

    The post's text has already named each server with its role and place,
    so an update names them by code only.
    """
    codes = [f"<strong>{escape(server.code)}</strong>" for server in post.servers]
    servers = ", ".join(codes[:-1]) + (" and " if len(codes) > 1 else "") + codes[-1] if codes else ""
    subject = f"the problem with {servers}" if servers else "this problem"
    sentence = STATE_SENTENCES[state].format(subject=subject, Subject=subject[0].upper() + subject[1:])
    return f"<p>{sentence}</p>"


def _awaiting_resolution(server: Server) -> Post | None:
    return db.session.scalar(
        select(Post).where(Post.origin == PROBE_ORIGIN, Post.pending_update_state == "resolved",
                           Post.servers.any(Server.id == server.id))
        .order_by(Post.created_at.desc(), Post.id.desc()).limit(1))


def _draft(server: Server, state: str, failing: list[Check], now: datetime) -> Post:
    wording = draft_wording(server, state, failing, now, reach_of(failing, now))
    post = Post(title=wording.title, slug=unique_slug(wording.title, _slug_taken, max_length=220),
                kind=PostKind.INCIDENT, status=PostStatus.DRAFT, origin=PROBE_ORIGIN, created_at=now)
    post.servers = [server]
    db.session.add(post)
    write_wording(post, wording, now)
    return post


@dataclass(frozen=True)
class Wording:
    """What the runner writes on a drafted incident: its title and text, and the impact and servers' state it
    proposes."""

    title: str
    body_html: str
    impact: IncidentImpact
    affected_state: AffectedState


def draft_wording(server: Server, state: str, failing: list[Check], since: datetime,
                  reaches: dict[int, Reach]) -> Wording:
    """What a draft says about ``server``, in confirmed ``state`` since ``since``, with ``failing`` checks that
    fail from where ``reaches`` says (``reach_of``)."""
    title = f"{server.code}: {server.role or 'Server'} {_title_words(state, failing, reaches)}"
    if len(title) > TITLE_LENGTH:  # long network names: the text names them all
        title = title[:TITLE_LENGTH - 1].rstrip() + "…"
    return Wording(title, sanitise_html(incident_body(server, BODY_WORDS[state], failing, since, reaches)),
                   DRAFT_IMPACT[state], affected_state(server, state, failing))


def write_wording(post: Post, wording: Wording, now: datetime) -> None:
    """Give the unseen draft ``post`` the runner's ``wording``, and remember it (``drafted_digest``).

    Its address follows its title, as it does when staff retitle a draft nobody has seen.
    """
    if post.title != wording.title:
        post.slug = unique_slug(wording.title, lambda slug: slug != post.slug and _slug_taken(slug),
                                max_length=220)
    post.title = wording.title
    post.set_body(wording.body_html)
    post.impact, post.affected_state = wording.impact, wording.affected_state
    post.updated_at = now
    post.drafted_digest = written_digest(post)


def written_digest(post: Post) -> str:
    """The fingerprint of what ``post`` holds now, to compare with what the runner gave it."""
    return _digest(post.title, post.body_html, post.impact, post.affected_state, (s.id for s in post.servers))


def wording_digest(wording: Wording, server_ids: Iterable[int]) -> str:
    """The fingerprint a draft of ``server_ids`` would have with ``wording``."""
    return _digest(wording.title, wording.body_html, wording.impact, wording.affected_state, server_ids)


def _digest(title, body_html, impact, affected, server_ids: Iterable[int]) -> str:
    """One fingerprint of a draft's title, text, impact, servers' state and servers (any stored values)."""
    values = [title, body_html, getattr(impact, "value", impact), getattr(affected, "value", affected),
              sorted(server_ids)]
    return hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()


def reach_of(failing: Sequence[Check], now: datetime) -> dict[int, Reach]:
    """Where each of the ``failing`` checks fails and works, for those probed from more than one location (one query).

    Only fresh locations with a confirmed opinion count, as in the quorum: a
    silent agent or one whose probe could not decide says nothing either way.
    """
    located = read_located({check.id: check.interval_seconds for check in failing}, now)
    down = {check.id for check in failing if check.state == state_name(Status.CRITICAL)}
    reaches = {}
    for check_id, items in located.items():
        judging = [item for item in items if item.fresh and item.confirmed in (Status.OK, Status.WARNING,
                                                                               Status.CRITICAL)]
        if len(items) > 1 and judging:
            reaches[check_id] = Reach(tuple(item for item in judging if item.confirmed is Status.CRITICAL),
                                      tuple(item for item in judging if item.confirmed is not Status.CRITICAL),
                                      check_id in down)
    return reaches


def _title_words(state: str, failing: Sequence[Check], reaches: dict[int, Reach]) -> str:
    """ "degraded", or "unreachable from MTN (Lusaka)" when every failing check fails from some networks only."""
    regional = [reaches[check.id] for check in failing if check.id in reaches and reaches[check.id].regional]
    if not failing or len(regional) != len(failing):
        return TITLE_WORDS[state]
    networks = {item.location_id: item for reach in regional for item in reach.failing}
    together = Reach(tuple(networks.values()), ())
    return f"{'unreachable' if together.unreachable else 'failing'} from {together.networks}"


def affected_state(server: Server, state: str, failing: list[Check]) -> AffectedState:
    """The servers' state a drafted incident proposes: degraded on warnings, a major outage when every service fails."""
    if state == "warning":
        return AffectedState.DEGRADED
    counted = [check for check in server.checks if check.enabled and check.is_public]
    failed = {check.id for check in failing}
    everything = bool(counted) and all(check.id in failed for check in counted)
    return AffectedState.MAJOR_OUTAGE if everything else AffectedState.PARTIAL_OUTAGE


def incident_body(server: Server, word: str, failing: list[Check], since: datetime,
                  reaches: dict[int, Reach] | None = None, update: bool = False) -> str:
    """The draft's text for visitors: which server, since when, which services fail and how, and from where.

    For a service probed from several locations it says which networks it
    fails from and that customers on others are not affected, or that it
    fails from most or every network it is tested from. As an ``update``
    it says what the monitoring shows "now", naming the server by its code.
    """
    reaches = reaches or {}
    items = "".join(_check_item(check, reaches.get(check.id)) for check in failing)
    where = "".join(_reach_sentence(server, check, reaches[check.id]) for check in failing if check.id in reaches)
    shows = "now shows" if update else "shows"
    return (
        f"<p>Our monitoring {shows} <strong>{escape(server.code)}</strong>{'' if update else _where(server)} "
        f"{escape(word)} since {escape(format_timestamp(since))}.</p>{where}"
        f"<h3>Affected services</h3><ul>{items}</ul>")


def _reach_sentence(server: Server, check: Check, reach: Reach) -> str:
    """ "Submission on NC036 is unreachable from MTN (Lusaka); customers on other networks are not affected." """
    subject = f"<strong>{escape(_title(check))}</strong> on <strong>{escape(server.code)}</strong>"
    if reach.regional:
        return (f"<p>{subject} {escape(reach.verb)} from {escape(reach.networks)}; "
                f"customers on other networks are not affected.</p>")
    if len(reach.failing) < 2:  # one location's word is all there is, as on a site without agents
        return ""
    if reach.working:  # a quorum, not everyone: it is down, and some customers may still reach it
        judged = len(reach.failing) + len(reach.working)
        return (f"<p>{subject} {escape(reach.verb)} from {len(reach.failing)} of the {judged} locations we test it "
                f"from, {escape(reach.networks)}: this is most likely not a problem with your connection.</p>")
    return (f"<p>{subject} {escape(reach.verb)} from every network we test it from "
            f"(all {len(reach.failing)} locations): this is not a problem with your connection.</p>")


def _where(server: Server) -> str:
    """The server's role and place after its code, in brackets unless they hold brackets themselves."""
    where = ", ".join(" ".join(part.split()) for part in (server.role, server.city, server.country) if part.strip())
    if not where:
        return ""
    return f" – {escape(where)} –" if "(" in where or ")" in where else f" ({escape(where)})"


def service_suffix(title: str, service: str) -> str:
    """What the draft adds after a check's title to say its kind of service (plain text, maybe empty).

    Nothing when the title already says it ("Control panel (HTTP)" of an
    HTTP(S) check); after a dash when brackets would nest or double
    ("Webmail (Roundcube) – HTTP(S)", never "Webmail (Roundcube) (HTTP(S))").
    """
    service = " ".join(service.split())
    if not service or _mentions(title, service):
        return ""
    if "(" in title or ")" in title or "(" in service or ")" in service:
        return f" – {service}"
    return f" ({service})"


def _mentions(title: str, service: str) -> bool:
    """True when ``title`` names ``service``, or the name it goes by before a bracket ("HTTP" of "HTTP(S)")."""
    words = set(re.findall(r"\w+", title.casefold()))
    stem = service.split("(")[0].strip().casefold()
    return service.casefold() in title.casefold() or (bool(stem) and stem in words)


def _title(check: Check) -> str:
    return " ".join(check.title.split()) or f"{check.type_name.upper()} {check.port}"


def _check_item(check: Check, reach: Reach | None = None) -> str:
    status = Status[check.state.upper()]
    check_type = get_plugins().check_types.get(check.type_name)
    service = check_type.label if check_type else check.type_name.upper()
    title = _title(check)
    since = f" since {format_timestamp(check.state_since)}" if check.state_since else ""
    if reach is not None and reach.partial:
        meaning = f"from {reach.networks}, {reach.meaning or STATE_WORDS[Status.CRITICAL]}"
    else:
        result = check.result
        meaning = PLAIN_WORDS.get(result.error_kind) if result and result.error_kind else None
    return (f"<li><strong>{escape(title)}</strong>{escape(service_suffix(title, service))}: "
            f"{escape(status.label)}{escape(since)}; {escape(meaning or STATE_WORDS[status])}.</li>")


def _slug_taken(slug: str) -> bool:
    return db.session.scalar(select(func.count()).where(Post.slug == slug)) > 0
