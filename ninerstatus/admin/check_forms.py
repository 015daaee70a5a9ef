"""The form staff fill in for a check; the check type's own settings are a sub-form of it."""
from __future__ import annotations

import os

from wtforms import BooleanField, FormField, PasswordField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..checktypes import CheckType
from ..models import Visibility
from ..probing import Family, InvalidTarget, TlsMode, validate_host
from .forms import StaffForm
from .number_fields import DecimalNumberField, WholeNumberField

TLS_LABELS = {TlsMode.NONE: "No TLS", TlsMode.STARTTLS: "STARTTLS (required)",
              TlsMode.IMPLICIT: "TLS from the first byte"}
FAMILY_CHOICES = [SelectChoice(Family.ANY.value, "Any"), SelectChoice(Family.IPV4.value, "IPv4 only"),
                  SelectChoice(Family.IPV6.value, "IPv6 only")]


def _host(form, field) -> None:
    """Accept only a plain host name or IP address (no URL, path, spaces or leading dash)."""
    if field.data:
        try:
            field.data = validate_host(field.data.strip())
        except InvalidTarget as error:
            raise ValidationError(str(error)) from None


def _readable_file(form, field) -> None:
    if field.data and not (os.path.isfile(field.data) and os.access(field.data, os.R_OK)):
        raise ValidationError("No readable file at this path on the server.")


class CheckForm(StaffForm):
    """What every check has; ``check_form_class`` adds the type's TLS modes and settings."""

    check_type: CheckType

    server_id = SelectField("Server", coerce=int, validators=[InputRequired()])
    label = StringField("Name", validators=[Optional(), Length(max=80)],
                        description="Shown to visitors, e.g. “Submission (587)”. Default: type and port.")
    host = StringField("Host", validators=[DataRequired(), Length(max=253), _host],
                       description="A host name or IP address, without http:// or a path.")
    port = WholeNumberField("Port", validators=[Optional(), NumberRange(1, 65535)],
                            invalid_value_message="Enter a port number from 1 to 65535, such as 587.",
                            description="Leave empty for the check type's usual port.")
    family = SelectField("IP version", choices=FAMILY_CHOICES, default=Family.ANY.value)
    tls_name = StringField("Certificate name", validators=[Optional(), Length(max=253), _host],
                           description="Name to send as SNI and check the certificate against, if not the host.")
    tls_verify = BooleanField("Verify the certificate chain and name", default=True)
    ca_file = StringField("CA file", validators=[Optional(), Length(max=500), _readable_file],
                          description="PEM file of the CA of a self-signed internal server.")
    warn_days = WholeNumberField("Warn when the certificate has fewer days left than", default=21,
                                 validators=[InputRequired(), NumberRange(0, 3650)])
    crit_days = WholeNumberField("Outage when it has fewer days left than", default=7,
                                 validators=[InputRequired(), NumberRange(0, 3650)])
    interval_seconds = WholeNumberField("Probe every (seconds)", default=60,
                                        validators=[InputRequired(), NumberRange(10, 86400)],
                                        description="From 10 seconds to a day. Default: 60.")
    timeout_seconds = DecimalNumberField("Give up after (seconds)", default=10.0,
                                         validators=[InputRequired(), NumberRange(0.5, 120)],
                                         description="From 0.5 to 120 seconds, shorter than the interval. "
                                                     "Default: 10.")
    failures_before_down = WholeNumberField(
        "Failed probes before it counts as down", default=2, validators=[InputRequired(), NumberRange(1, 10)],
        description="Consecutive failed probes before the check counts as down (or degraded) for visitors "
                    "and notifications; 1 reports the first failure. From 1 to 10. Default: 2.")
    successes_before_up = WholeNumberField(
        "Good probes before it counts as up again", default=1, validators=[InputRequired(), NumberRange(1, 10)],
        description="Consecutive successful probes before a check that was down counts as up again. "
                    "From 1 to 10. Default: 1.")
    visibility = RadioField("Who sees it", default=Visibility.PUBLIC.value,
                            choices=[SelectChoice(Visibility.PUBLIC.value, "Visitors (shown under the server)"),
                                     SelectChoice(Visibility.INTERNAL.value, "Staff only")])
    enabled = BooleanField("Enabled", default=True)

    def validate_crit_days(self, field) -> None:
        if self.warn_days.data is not None and field.data is not None and field.data > self.warn_days.data:
            raise ValidationError("Must not be more than the warning threshold.")

    def validate_timeout_seconds(self, field) -> None:
        if self.interval_seconds.data and field.data and field.data >= self.interval_seconds.data:
            raise ValidationError("Must be shorter than the interval.")

    def validate_tls_mode(self, field) -> None:
        problem = tls_mode_problem(self.check_type, field.data)
        if problem:
            raise ValidationError(problem)


def tls_mode_problem(check_type: CheckType, value: str) -> str | None:
    """Why ``check_type`` cannot use the TLS mode ``value`` (as the form sends it), or None when it can."""
    if not value or value in {mode.value for mode in check_type.tls_modes}:
        return None
    named = {mode.value: f"“{label}”" for mode, label in TLS_LABELS.items()}.get(value, "this TLS mode")
    offered = " or ".join(f"“{TLS_LABELS[mode]}”" for mode in check_type.tls_modes)
    return f"{check_type.label} checks cannot use {named}: choose {offered}."


def check_form_class(check_type: CheckType) -> type[CheckForm]:
    """A CheckForm for ``check_type``: its TLS modes only, and its settings as the ``settings`` sub-form."""
    tls_choices = [SelectChoice("", "What the check type uses on this port"),
                   *(SelectChoice(mode.value, TLS_LABELS[mode]) for mode in check_type.tls_modes)]
    return type(f"{check_type.form_class.__name__}Check", (CheckForm,), {
        "check_type": check_type,
        "tls_mode": SelectField("TLS", choices=tls_choices, default="", validate_choice=False),
        "settings": FormField(check_type.form_class, label="Settings of this check type"),
    })


def secret_setting_names(check_type: CheckType) -> set[str]:
    """Settings typed as passwords: left empty when editing, they keep their stored value."""
    return {name for name, field in check_type.settings.items() if field.field_class is PasswordField}
