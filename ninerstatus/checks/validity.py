"""Whether a stored check can be probed at all, and if not, why, in words for staff.

The admin form only ever stores checks that can run, but rows also come from
older versions, plugins that went away and hand edits in a database shell.
The runner asks ``check_problem`` before it probes a check (a check that
cannot run is recorded UNKNOWN with the reason, the others are probed as
usual), and the staff dashboard lists the same reasons.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

from ..checktypes import CheckType
from ..columns import UnknownMember
from ..probing import Family, TlsMode
from .models import Check
from .secrets import UnreadableSecret

#: How each kind of stored value is named when it stands where named settings belong.
_SHAPES = {list: "a list", str: "text", int: "a number", float: "a number", bool: "true or false"}


def check_problem(check: Check, check_types: Mapping[str, CheckType]) -> str | None:
    """Why ``check`` cannot be probed as it is stored, or None when it can."""
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
    except ValueError as error:  # InvalidTarget: edited into something no probe may reach
        return f"invalid target: {error}"
    try:
        check.tls_policy()
    except ValueError as error:
        return f"invalid certificate thresholds: {error}"
    return None
