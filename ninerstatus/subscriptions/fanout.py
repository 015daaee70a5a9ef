"""From one published post or update to one queued mail per subscriber, at the admin's rate.

Publishing only stores a ``Broadcast`` (``announce``): the web request that
publishes never touches the list. The runner's outbox drain calls
``expand_due`` before it sends: a broadcast starts (its letter is written,
once) when its post is visible, then its subscribers are queued in id order,
a batch at a time, each mail given a slot ``60 / SUBSCRIBER_MAILS_PER_MINUTE``
seconds after the previous one, never more than a minute ahead. So the
outbox holds at most a minute of subscriber mail: staff notifications queued
meanwhile are not stuck behind ten thousand of them, a rate changed by the
admin applies within a minute, and an address that leaves before its slot
is skipped when its mail is written out (see delivery.prepare).

Runners sharing a database may expand the same broadcast: each batch moves
the broadcast's cursor by compare-and-set in the transaction that queues it,
so only one of them queues a given batch.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, request
from sqlalchemy import exists, func, or_, select, update

from ..extensions import db
from ..models import Post, PostStatus, PostUpdate
from ..notifications.models import Notification
from ..notifications.outbox import enqueue
from ..site_settings import effective_settings
from .delivery import CHANNEL, broadcast_payload
from .mails import KIND_WORDS, broadcast_letter
from .models import Broadcast, Subscriber, SubscriberStatus, subscriber_servers

log = logging.getLogger(__name__)

#: How far ahead mails are queued: a minute of the rate.
HORIZON = timedelta(minutes=1)


def announce(post: Post, update: PostUpdate | None = None) -> Broadcast | None:
    """Queue telling subscribers about ``post`` (or one ``update`` of it), in a request; the caller commits.

    Only incidents and maintenance are told, and a post only once (publishing
    it again after taking it back to a draft tells no one twice).
    """
    if post.kind not in KIND_WORDS:
        return None
    db.session.flush()
    if update is None and db.session.scalar(select(func.count()).where(
            Broadcast.post_id == post.id, Broadcast.about_update.is_(False))):
        return None
    broadcast = Broadcast(post_id=post.id, update_id=update.id if update is not None else None,
                          about_update=update is not None, base_url=request.url_root.rstrip("/"))
    db.session.add(broadcast)
    return broadcast


def announce_save(post: Post, update: PostUpdate | None, was_visible: bool) -> None:
    """Tell subscribers what publishing from the editor made news: the post if it just came out, else its new update."""
    if not was_visible:
        announce(post)
    elif update is not None:
        announce(post, update)


def _finish(broadcast: Broadcast, now: datetime, outcome: str = "") -> None:
    broadcast.finished_at, broadcast.outcome = now, outcome
    db.session.commit()


def _start(broadcast: Broadcast, now: datetime) -> bool:
    """Write the broadcast's letter if its post is out; False when it waits or has ended instead."""
    post = db.session.get(Post, broadcast.post_id) if broadcast.post_id is not None else None
    if post is None:
        _finish(broadcast, now, "the post was deleted before it was told")
        return False
    if not post.is_visible(now):
        if post.status is PostStatus.SCHEDULED and post.published_at is not None:
            return False  # told when its time comes
        _finish(broadcast, now, "the post went back to a draft before it was told")
        return False
    update_ = None
    if broadcast.about_update:
        update_ = db.session.get(PostUpdate, broadcast.update_id) if broadcast.update_id is not None else None
        if update_ is None or update_.post_id != post.id:
            _finish(broadcast, now, "the update was removed before it was told")
            return False
    broadcast.letter = broadcast_letter(post, update_, broadcast.base_url)
    broadcast.server_ids = [server.id for server in post.servers]
    broadcast.started_at = now
    db.session.commit()
    return True


def _server_ids(broadcast: Broadcast) -> list[int]:
    """The servers a started broadcast is about; a stored value of another shape is logged and read as none."""
    ids = broadcast.server_ids
    if isinstance(ids, list) and all(isinstance(value, int) and not isinstance(value, bool) for value in ids):
        return ids
    log.warning("broadcast %s names its servers unreadably (%r): telling only those subscribed to all",
                broadcast.id, ids)
    return []


def _next_slot(now: datetime, spacing: timedelta) -> datetime:
    """When the next subscriber mail may go: one spacing after the last one queued, and not before now.

    Only first attempts count (retries keep their backoff), and only slots
    within the horizon: a message being sent is held past it (see outbox._claim).
    """
    last = db.session.scalar(select(func.max(Notification.next_attempt_at)).where(
        Notification.channel == CHANNEL, Notification.sent_at.is_(None), Notification.attempts == 0,
        Notification.next_attempt_at <= now + HORIZON))
    return now if last is None else max(now, last + spacing)


def _audience(server_ids: list[int], max_bounces: int):
    """Subscribers a broadcast about ``server_ids`` goes to: confirmed, still mailable, all or one of them."""
    chosen = exists().where(subscriber_servers.c.subscriber_id == Subscriber.id,
                            subscriber_servers.c.server_id.in_(server_ids))
    return (Subscriber.status == SubscriberStatus.CONFIRMED, Subscriber.bounces < max_bounces,
            or_(Subscriber.all_servers.is_(True), chosen) if server_ids else Subscriber.all_servers.is_(True))


def _queue_batch(broadcast: Broadcast, now: datetime, settings: dict[str, Any]) -> int | None:
    """Queue the broadcast's next batch; how many were queued, 0 when there is none (now), None when the rate is spent."""
    spacing = timedelta(seconds=60 / max(1, int(settings["SUBSCRIBER_MAILS_PER_MINUTE"])))
    slot = _next_slot(now, spacing)
    room = int((now + HORIZON - slot) / spacing)
    if room <= 0:
        return None
    size = min(room, int(settings["SUBSCRIBER_FANOUT_BATCH"]))
    rows = db.session.execute(
        select(Subscriber.id, Subscriber.email)
        .where(Subscriber.id > broadcast.cursor, *_audience(_server_ids(broadcast), int(settings["SUBSCRIBER_MAX_BOUNCES"])))
        .order_by(Subscriber.id).limit(size)).all()
    if not rows:
        _finish(broadcast, now)
        return 0
    moved = db.session.execute(
        update(Broadcast).where(Broadcast.id == broadcast.id, Broadcast.cursor == broadcast.cursor)
        .values(cursor=rows[-1].id, mails=Broadcast.mails + len(rows))
        .execution_options(synchronize_session=False)).rowcount
    if not moved:
        # Another runner queued this batch meanwhile: the next round goes on from its cursor.
        db.session.rollback()
        return 0
    for index, (subscriber_id, email) in enumerate(rows):
        enqueue(CHANNEL, broadcast_payload(email, broadcast.id, subscriber_id), due_at=slot + index * spacing)
    db.session.commit()
    return len(rows)


def expand_due(now: datetime) -> int:
    """Queue the subscriber mails due within the next minute of the rate; return how many were queued.

    Call it in an application context with no transaction of your own open: it commits after each batch.
    """
    settings = effective_settings(current_app._get_current_object())
    queued = 0
    open_ids = db.session.scalars(select(Broadcast.id).where(Broadcast.finished_at.is_(None))
                                  .order_by(Broadcast.id)).all()
    for broadcast_id in open_ids:
        while True:
            broadcast = db.session.get(Broadcast, broadcast_id)
            if broadcast is None or broadcast.finished_at is not None:
                break
            if broadcast.started_at is None and not _start(broadcast, now):
                break
            batch = _queue_batch(broadcast, now, settings)
            if batch is None:
                db.session.rollback()
                return queued
            if batch == 0:
                break
            queued += batch
    db.session.rollback()
    return queued
