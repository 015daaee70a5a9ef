"""Whether a stored check can be probed at all, and if not, why, in words for staff.

The admin form only ever stores checks that can run, but rows also come from
older versions, plugins that went away and hand edits in a database shell.
The runner asks ``check_problem`` before it probes a check (a check that
cannot run is recorded UNKNOWN with the reason, the others are probed as
usual), and the staff dashboard lists the same reasons.

The dashboard asks about every enabled check each time it is drawn, from
plain rows (``StoredCheck``): ``stored_check_problem`` keeps each verdict by
exactly the stored values it was worked out from, so a row nobody changed is
not decrypted and validated again by every page.
"""
from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import Text, cast

from ..columns import UnknownMember
from ..probing import Family, TlsMode
from .listing import stored_json
from .models import Check
from .secrets import UnreadableSecret

#: How each kind of stored value is named when it stands where named settings belong.
_SHAPES = {list: "a list", str: "text", int: "a number", float: "a number", bool: "true or false"}


def check_problem(check: Check, check_types: Collection[str]) -> str | None:
    """Why ``check`` cannot be probed as it is stored, or None when it can; ``check_types``: the loaded type names."""
    if check.type_name not in check_types:
        return f"no loaded plugin provides the check type {check.type_name!r}"
    for value, what, enum_cls in ((check.tls_mode, "TLS mode", TlsMode), (check.family, "address family", Family)):
        if isinstance(value, UnknownMember):
            return f"its {what} {str(value)!r} is none of {', '.join(m.value for m in enum_cls)}"
    if check.settings is not None and not isinstance(check.settings, Mapping):
        shape = _SHAPES.get(type(check.settings), type(check.settings).__name__)
        return f"its settings are {shape}, not named values (a JSON object)"
    try:
        check.probe_settings()
    except UnreadableSecret as error:  # the secret key changed, or the row was edited by hand
        return str(error)
    timeout = check.timeout_seconds
    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
        return "its timeout is not a number of seconds above 0"
    try:
        check.target()
    except (ValueError, TypeError) as error:  # InvalidTarget: edited into something no probe may reach
        return f"invalid target: {error}"
    try:
        check.tls_policy()
    except (ValueError, TypeError) as error:  # TypeError: SQLite keeps text in a number column as it is
        return f"invalid certificate thresholds: {error}"
    return None


class StoredCheck(NamedTuple):
    """What ``check_problem`` reads of a check, as stored: the settings as their stored text."""

    type_name: str
    tls_mode: TlsMode | UnknownMember
    family: Family | UnknownMember
    settings_text: str | None
    timeout_seconds: float
    host: str
    port: int
    tls_name: str | None
    tls_verify: bool
    ca_file: str | None
    warn_days: int
    crit_days: int


#: ``StoredCheck``'s columns, in its order and named as its fields: a query of checks selects them to ask
#: ``stored_check_problem`` (the settings as text, so that they can key its memory).
STORED_CHECK_COLUMNS = (Check.type_name, Check.tls_mode, Check.family,
                        cast(Check.settings, Text).label("settings_text"), Check.timeout_seconds, Check.host,
                        Check.port, Check.tls_name, Check.tls_verify, Check.ca_file, Check.warn_days,
                        Check.crit_days)
#: Distinct verdicts each process remembers: a few for every check of a large site.
VERDICTS_KEPT = 4096


def stored_check_problem(stored: StoredCheck, check_types: Collection[str]) -> str | None:
    """``check_problem`` of the check stored as ``stored``, worked out once per process for the same values.

    The verdict depends on nothing else: whether the type is loaded, and the
    site's keys, which decide whether its secrets open.
    """
    config = current_app.config
    keys = (config["SECRET_KEY"], tuple(config.get("SECRET_KEY_FALLBACKS") or ()))
    return _verdict(stored, stored.type_name in check_types, keys)


@lru_cache(maxsize=VERDICTS_KEPT)
def _verdict(stored: StoredCheck, type_loaded: bool, keys: tuple[Any, ...]) -> str | None:
    """``check_problem`` of a check made of ``stored`` (never saved); ``keys`` are the application's, which it reads."""
    values = stored._asdict()
    text = values.pop("settings_text")
    check = Check(settings=None if text is None else stored_json(text), **values)
    return check_problem(check, (stored.type_name,) if type_loaded else ())
