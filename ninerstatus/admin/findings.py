"""What the probes see now about the servers an incident names: for staff beside the post, never in it.

A drafted incident's text is written for visitors; the addresses probed,
the error kinds and what the servers said are shown to staff here instead,
read afresh from the checks each time a page is drawn.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ..checks.status import CheckState, check_state, latest_result
from ..models import Post, PostKind
from ..probing import Status
from .check_rows import StaffCheck, staff_checks


@dataclass(frozen=True)
class Finding:
    """One check that is not OK now: the check, its state, and the error kind of its latest result."""

    check: StaffCheck
    state: CheckState
    error_kind: str | None


def post_findings(post: Post, now: datetime, checks: Iterable[StaffCheck] | None = None) -> list[Finding]:
    """The enabled checks (internal ones too) of the servers ``post`` names that are not OK at ``now``, worst first.

    ``checks``: the enabled checks a page has read already (any servers'); without them, those of the post's
    servers are read.
    """
    if post.kind is not PostKind.INCIDENT or not post.servers:
        return []
    if checks is None:
        checks = staff_checks(enabled=True, server_ids=[server.id for server in post.servers])
    by_server: dict[int, list[StaffCheck]] = {}
    for check in checks:
        by_server.setdefault(check.server_id, []).append(check)
    findings = []
    for server in post.servers:
        for check in by_server.get(server.id, ()):
            state = check_state(check, now)
            if state.status is not Status.OK:
                result = latest_result(check)
                kind = result.error_kind.value if result and result.error_kind else None
                findings.append(Finding(check, state, kind))
    return sorted(findings, key=lambda f: -f.state.status.severity)
