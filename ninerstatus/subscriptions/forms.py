"""The visitors' subscription forms; each carries a CSRF token through Flask-WTF."""
from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from ..admin.forms import MultiCheckboxField

ALL, CHOSEN = "all", "servers"
# Deliberately loose (the confirmation mail is the real test): one @, no spaces or brackets,
# a dot in the domain. Stricter patterns refuse addresses people really have.
ADDRESS = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]+")


def normal_address(text: str) -> str:
    """An address as it is stored and counted: trimmed and lowercased, so one mailbox is one row."""
    return text.strip().lower()


class ServerChoiceForm(FlaskForm):
    """What a subscriber hears about: everything, or only the servers chosen."""

    scope = RadioField("Tell me about", choices=[SelectChoice(ALL, "All incidents and maintenance"),
                                                 SelectChoice(CHOSEN, "Only the servers I choose")], default=ALL)
    servers = MultiCheckboxField("Servers", coerce=int)

    def validate_servers(self, field) -> None:
        """Only-chosen-servers needs at least one server."""
        if self.scope.data == CHOSEN and not field.data:
            raise ValidationError("Choose at least one server, or all incidents and maintenance.")


class SubscribeForm(ServerChoiceForm):
    """A visitor's address and choice; ``website`` is a honeypot that people never see nor fill."""

    email = EmailField("E-mail address", validators=[
        DataRequired(message="Give the address to send the mails to."), Length(max=254)])
    website = StringField("Leave this empty")

    def validate_email(self, field) -> None:
        """Something that can be an address (whether it exists, the confirmation mail finds out)."""
        if not ADDRESS.fullmatch(normal_address(field.data or "")):
            raise ValidationError("That does not look like an e-mail address.")


class ManageForm(ServerChoiceForm):
    """A subscriber changing what they hear about."""


class ButtonForm(FlaskForm):
    """A button and its CSRF token: confirming happens on a POST, never on the GET a mail scanner may fetch."""
