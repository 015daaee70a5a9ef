"""Helpers for check-type settings (WTForms fields) shared by the bundled plugins.

``checked_by`` turns the parser a probe uses into a form validator, so the
admin form refuses exactly what the probe would refuse. ``yes_no_field`` is
a boolean setting that keeps a default of "yes": a ``BooleanField`` reads a
missing value (an omitted ``--option``) as False and takes "no" for True.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wtforms import Form, SelectChoice, SelectField, ValidationError
from wtforms.fields import Field

_YES = frozenset({"yes", "true", "on", "1"})
_NO = frozenset({"no", "false", "off", "0"})


def checked_by(parse: Callable[[str], Any]) -> Callable[[Form, Field], None]:
    """A validator that runs ``parse`` on the field's text (when there is any); ``ValueError`` becomes the error."""
    def check(form: Form, field: Field) -> None:
        if field.data:
            try:
                parse(field.data)
            except ValueError as error:
                raise ValidationError(str(error)) from None
    return check


def yes_no(value: Any) -> bool:
    """Read yes/no, true/false, on/off or 1/0 (any case) as a bool; ``ValueError`` otherwise."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(f"{value!r} is neither yes nor no")


def yes_no_field(label: str, *, default: bool, description: str = "") -> SelectField:
    """A yes/no setting whose data is a bool."""
    return SelectField(label, choices=[SelectChoice(True, "yes"), SelectChoice(False, "no")], coerce=yes_no,
                       default=default, description=description)
