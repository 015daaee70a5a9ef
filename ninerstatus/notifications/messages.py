"""What a notification says: a state change of one check, as plain data and as text for people.

The data is taken when the change happens and stored with the message, so a
retry an hour later still tells what was seen then. It carries the probe's
one-line summary and error kind, never its transcript or the check's settings.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..probing import ProbeResult, Status
from ..timeutil import format_timestamp, utcnow

#: Words for the states the runner confirms (Status names in lower case, plus maintenance).
STATE_WORDS = {**{status.name.lower(): status.label for status in Status}, "maintenance": "under maintenance"}


def state_word(state: str | None) -> str:
    """How a confirmed state reads in a message: "outage" for critical, "no state yet" for None."""
    if state is None:
        return "no state yet"
    return STATE_WORDS.get(state, state)


def worth_telling(previous: str | None, current: str) -> bool:
    """False for a check settling into OK from no data (a new check, or the runner back after a pause).

    Those are not news; a recovery from a real failure, and every failure, is.
    """
    return not (current == "ok" and previous in (None, "unknown"))


def status_change(check: Any, previous: str | None, current: str, result: ProbeResult) -> dict[str, Any]:
    """The facts of one state change, JSON-ready."""
    server = check.server
    return {
        "check": {"id": check.id, "name": check.title, "type": check.type_name,
                  "target": f"{check.host}:{check.port}"},
        "server": {"code": server.code, "role": server.role, "visibility": server.visibility.value},
        "previous": previous,
        "current": current,
        "summary": result.summary,
        "error_kind": result.error_kind.value if result.error_kind else None,
        "checked_at": result.checked_at.isoformat(),
        "noticed_at": utcnow().isoformat(),
    }


#: Where each fact that ``subject`` and ``text`` read sits in a change, and the types it may have.
FACTS: dict[tuple[str, ...], tuple[type, ...]] = {
    ("check", "name"): (str,), ("check", "target"): (str,), ("server", "code"): (str,),
    ("previous",): (str, type(None)), ("current",): (str,), ("summary",): (str,),
    ("error_kind",): (str, type(None)), ("checked_at",): (str,),
}


def change_problem(change: Any) -> str | None:
    """Why ``change``, read back from a stored message, cannot be told, in words for staff; None when it can.

    A stored message is untrusted (an older release, a hand edit): this is
    asked before ``subject`` or ``text`` is, so they never meet a fact that
    is missing or of the wrong kind.
    """
    if not isinstance(change, Mapping):
        return "it holds no state change"
    for path, types in FACTS.items():
        value: Any = change
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if not isinstance(value, types):
            return f"its {'.'.join(path)} is {'missing' if value is None else 'not text'}"
    try:
        datetime.fromisoformat(change["checked_at"])
    except ValueError:
        return "its checked_at is not a time"
    return None


def subject(change: dict[str, Any]) -> str:
    """One line for an e-mail subject: server, check, new state, old state."""
    return (f"{change['server']['code']} {change['check']['name']}: {state_word(change['current'])} "
            f"(was {state_word(change['previous'])})")


def text(change: dict[str, Any], site_name: str) -> str:
    """The plain-text body of an e-mail about ``change``."""
    checked_at = format_timestamp(datetime.fromisoformat(change["checked_at"]))
    lines = [
        f"{change['check']['name']} on {change['server']['code']} ({change['check']['target']}) is now "
        f"{state_word(change['current']).upper()}; it was {state_word(change['previous']).upper()}.",
        "",
        f"What the probe saw: {change['summary']}",
    ]
    if change["error_kind"]:
        lines.append(f"Kind of error: {change['error_kind']}")
    lines += [f"Checked at: {checked_at}", "", "-- ", f"{site_name}, by ninerstatus"]
    return "\n".join(lines) + "\n"
