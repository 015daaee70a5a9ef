"""What applying a configuration file changes, field by field, and how it is told to the person applying it.

A ``Plan`` is plain, comparable data: ``apply`` works it out once to show
it, then again inside the transaction that makes the change, and refuses to
go on when the two differ (someone changed the site in between). A secret's
value never enters a plan: only whether it is set, or changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .yamlfile import dump_scalar

CREATE, UPDATE, REMOVE = "create", "update", "remove"
_SIGNS = {CREATE: "+", UPDATE: "~", REMOVE: "-"}


@dataclass(frozen=True)
class FieldChange:
    """One field: its key in the file, its value before and after as YAML (a secret's never: ``secret`` is True)."""

    key: str
    old: str | None
    new: str | None
    secret: bool = False

    @classmethod
    def of(cls, key: str, old: Any, new: Any, secret: bool = False) -> FieldChange:
        """The change of ``key`` from ``old`` to ``new``; for a secret, only whether it was and is set."""
        if secret:
            return cls(key, None if old is None else ("set" if old else "empty"),
                       "set" if new else "empty", secret=True)
        return cls(key, None if old is None else dump_scalar(old), dump_scalar(new))

    def told(self) -> str:
        """The change in words, e.g. ``city: Paris -> Lyon`` or ``settings.password: secret changed``."""
        if self.secret:
            if self.old is None:
                return f"{self.key}: secret {self.new}"
            return f"{self.key}: secret changed" + ("" if self.new == "set" else " (now empty)")
        if self.old is None:
            return f"{self.key}: {self.new}"
        return f"{self.key}: {self.old} -> {self.new}"


@dataclass(frozen=True)
class Change:
    """Something created, updated or removed: a server, a check, the notifier settings."""

    action: str
    what: str
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class Plan:
    """Every change applying a file makes, what the site has that the file leaves alone (without --prune), and
    what the person applying it must do next (give new locations a token)."""

    changes: tuple[Change, ...]
    kept: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """The plan as the command prints it: one line per change, one indented line per field."""
        lines = []
        for change in self.changes:
            lines.append(f"{_SIGNS[change.action]} {change.action} {change.what}")
            lines.extend(f"    {field.told()}" for field in change.fields)
        if self.kept:
            lines.append(f"Not in the file, left as they are (--prune removes them): {', '.join(self.kept)}")
        lines.extend(f"Note: {note}." for note in self.notes)
        return lines

    def summary(self) -> str:
        """How many things are created, updated and removed, in one sentence."""
        if not self.changes:
            return "Nothing to change: the site already matches the file."
        counts = {action: sum(change.action == action for change in self.changes) for action in _SIGNS}
        return ", ".join(f"{count} to {action}" for action, count in counts.items() if count) + "."
