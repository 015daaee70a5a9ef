"""The form staff fill in for a check; the check type's own settings are a sub-form of it."""
from __future__ import annotations

import os

from flask_wtf import FlaskForm
from wtforms import (BooleanField, FloatField, FormField, IntegerField, PasswordField, RadioField, SelectChoice,
                     SelectField, StringField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..checktypes import CheckType
from ..models import Visibility
from ..probing import Family, InvalidTarget, TlsMode, validate_host

TLS_CHOICES = [SelectChoice("", "What the check type uses on this port"), SelectChoice(TlsMode.NONE.value, "No TLS"),
               SelectChoice(TlsMode.STARTTLS.value, "STARTTLS (required)"),
               SelectChoice(TlsMode.IMPLICIT.value, "TLS from the first byte")]
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


class CheckForm(FlaskForm):
    """What every check has; ``for_type`` adds the type's settings."""

    server_id = SelectField("Server", coerce=int, validators=[InputRequired()])
    label = StringField("Name", validators=[Optional(), Length(max=80)],
                        description="Shown to visitors, e.g. “Submission (587)”. Default: type and port.")
    host = StringField("Host", validators=[DataRequired(), Length(max=253), _host],
                       description="A host name or IP address, without http:// or a path.")
    port = IntegerField("Port", validators=[Optional(), NumberRange(1, 65535)],
                        description="Leave empty for the check type's usual port.")
    tls_mode = SelectField("TLS", choices=TLS_CHOICES, default="")
    family = SelectField("IP version", choices=FAMILY_CHOICES, default=Family.ANY.value)
    tls_name = StringField("Certificate name", validators=[Optional(), Length(max=253), _host],
                           description="Name to send as SNI and check the certificate against, if not the host.")
    tls_verify = BooleanField("Verify the certificate chain and name", default=True)
    ca_file = StringField("CA file", validators=[Optional(), Length(max=500), _readable_file],
                          description="PEM file of the CA of a self-signed internal server.")
    warn_days = IntegerField("Warn when the certificate has fewer days left than", default=21,
                             validators=[InputRequired(), NumberRange(0, 3650)])
    crit_days = IntegerField("Outage when it has fewer days left than", default=7,
                             validators=[InputRequired(), NumberRange(0, 3650)])
    interval_seconds = IntegerField("Probe every (seconds)", default=60,
                                    validators=[InputRequired(), NumberRange(10, 86400)])
    timeout_seconds = FloatField("Give up after (seconds)", default=10.0,
                                 validators=[InputRequired(), NumberRange(0.5, 120)])
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


def check_form_class(check_type: CheckType) -> type[CheckForm]:
    """A CheckForm with ``check_type``'s settings as the ``settings`` sub-form."""
    return type(f"{check_type.form_class.__name__}Check", (CheckForm,),
                {"settings": FormField(check_type.form_class, label="Settings of this check type")})


def secret_setting_names(check_type: CheckType) -> set[str]:
    """Settings typed as passwords: left empty when editing, they keep their stored value."""
    return {name for name, field in check_type.settings.items() if field.field_class is PasswordField}
