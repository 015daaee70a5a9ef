"""Number fields for staff forms that give back exactly what was typed, with one clear error.

They are text inputs with a numeric keyboard hint (``inputmode``) rather than
``<input type="number">``: a browser empties a number input holding "abc", so
the person would lose what they typed and never see why it was refused. A
value that is not a number gets one message, not also the range validator's
"must be between" about a value nobody entered.
"""
from __future__ import annotations

from wtforms import FloatField, IntegerField, widgets
from wtforms.validators import StopValidation


class _TypedAsText:
    """Render as a text input; an empty box is left to Optional or InputRequired; text that is no number stops there."""

    widget = widgets.TextInput()
    inputmode = "numeric"
    not_a_number: str  # what a subclass says about text that is not its kind of number

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        kwargs.setdefault("invalid_value_message", self.not_a_number)
        kwargs["render_kw"] = {"inputmode": self.inputmode, **(kwargs.get("render_kw") or {})}
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist) -> None:
        if valuelist and not valuelist[0].strip():
            self.data = None
            return
        super().process_formdata(valuelist)

    def pre_validate(self, form) -> None:
        if self.process_errors:
            raise StopValidation()  # the parse error is already in self.errors


class WholeNumberField(_TypedAsText, IntegerField):
    """An integer typed as text (ports, seconds, counts)."""

    not_a_number = "Enter a whole number in digits, without units."


class DecimalNumberField(_TypedAsText, FloatField):
    """A number typed as text that may have a fractional part (``2.5``)."""

    inputmode = "decimal"
    not_a_number = "Enter a number in digits, such as 10 or 2.5."
