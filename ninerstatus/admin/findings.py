"""What the probes see now about the servers an incident names: for staff beside the post, never in it.

A drafted incident's text is written for visitors; the addresses probed,
the error kinds and what the servers said are shown to staff here instead,
read afresh from the checks each time a page is drawn.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..checks.models import Check
from ..checks.status import CheckState, check_state, latest_result
from ..models import Post, PostKind
from ..probing import Status


@dataclass(frozen=True)
class Finding:
    """One check that is not OK now: the check, its state, and the error kind of its latest result."""

    check: Check
    state: CheckState
    error_kind: str | None


def post_findings(post: Post, now: datetime) -> list[Finding]:
    """The enabled checks (internal ones too) of the servers ``post`` names that are not OK at ``now``, worst first."""
    if post.kind is not PostKind.INCIDENT:
        return []
    findings = []
    for server in post.servers:
        for check in server.checks:
            state = check_state(check, now)
            if check.enabled and state.status is not Status.OK:
                result = latest_result(check)
                kind = result.error_kind.value if result and result.error_kind else None
                findings.append(Finding(check, state, kind))
    return sorted(findings, key=lambda f: -f.state.status.severity)
