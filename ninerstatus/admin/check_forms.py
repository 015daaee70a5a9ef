"""The form staff fill in for a check; the check type's own settings are a sub-form of it.

The form holds only what applies to its check type: a type that never speaks
TLS gets no TLS fields at all. A URL typed or pasted into the host field
fills the form in (see ``check_urls``) and the form is shown again, saying
what it took, for staff to look over before saving.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from wtforms import BooleanField, FormField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import (DataRequired, InputRequired, Length, NumberRange, Optional, StopValidation,
                                ValidationError)

from ..check_urls import (PASSWORD_SETTING, USERNAME_SETTING, UrlError, UrlReading, looks_like_url, read_url,
                          takes_login)
from ..checktypes import CheckType, TlsConflict
from ..models import Visibility
from ..probing import Family, InvalidTarget, TlsMode, validate_host
from .forms import MultiCheckboxField, StaffForm
from .number_fields import DecimalNumberField, WholeNumberField

TLS_LABELS = {TlsMode.NONE: "No TLS", TlsMode.STARTTLS: "STARTTLS (required)",
              TlsMode.IMPLICIT: "TLS from the first byte"}
#: The fields that only matter when a check speaks TLS (none on a type that never does).
TLS_FIELDS = ("tls_name", "tls_verify", "ca_file", "warn_days", "crit_days")
FAMILY_CHOICES = [SelectChoice(Family.ANY.value, "Any"), SelectChoice(Family.IPV4.value, "IPv4 only"),
                  SelectChoice(Family.IPV6.value, "IPv6 only")]
#: The largest quorum a check may have: far beyond any site's locations, well within the column.
MAX_QUORUM = 1000
MAJORITY_LABEL = "a majority of its locations"
QUORUM_REFUSED = f"Choose a majority, or a whole number of locations from 1 to {MAX_QUORUM}."


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


def _quorum(value: Any) -> int | None:
    """A quorum as a form sends it (or as stored): empty for a majority, else a whole number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(QUORUM_REFUSED)
    return int(value)


def quorum_choices(locations: int, current: int | None) -> list[SelectChoice]:
    """The quorum's choices: a majority, or 1 up to the ``locations`` that may probe a check (and ``current``, a
    larger number already chosen, kept so that it shows as chosen)."""
    numbers = list(range(1, max(locations, 1) + 1))
    if current is not None and 1 <= current <= MAX_QUORUM and current not in numbers:
        numbers.append(current)
    return [SelectChoice("", MAJORITY_LABEL),
            *(SelectChoice(str(number), "1 location" if number == 1 else f"{number} locations") for number in numbers)]


class QuorumField(SelectField):
    """How many locations must see a check failing for it to be down: None for a majority, else a whole number.

    Offered as a list (``quorum_choices``), but any whole number from 1 is
    taken: a quorum above the locations that probe the check is allowed
    (the form warns that it can then never be reached).
    """

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        super().__init__(label, validators, coerce=_quorum, choices=quorum_choices(1, None), validate_choice=False,
                         invalid_value_message=QUORUM_REFUSED, **kwargs)

    def pre_validate(self, form) -> None:
        if self.process_errors:
            raise StopValidation()  # the parse error is already in self.errors
        if self.data is not None and not 1 <= self.data <= MAX_QUORUM:
            raise StopValidation(QUORUM_REFUSED)


class CheckForm(StaffForm):
    """What every check has; ``check_form_class`` adds the type's TLS modes and settings."""

    check_type: CheckType
    #: The settings stored for the check being edited, secrets decrypted (none for a new
    #: check): a secret setting left empty keeps its stored value.
    stored_settings: Mapping[str, Any] = MappingProxyType({})
    #: Stored secrets that cannot be decrypted (the site's secret key changed): asked for again.
    unreadable_secrets: tuple[str, ...] = ()
    #: What a URL in the host field filled in, once the form has read it (see ``read_url``).
    url_note: str | None = None

    server_id = SelectField("Server", coerce=int, validators=[InputRequired()])
    label = StringField("Name", validators=[Optional(), Length(max=80)],
                        description="Shown to visitors, e.g. “Submission (587)”. Default: type and port.")
    host = StringField("Host", validators=[DataRequired(), Length(max=253), _host],
                       description="A host name or IP address.")
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
    # Which agent locations probe the check: saved by the admin view, not a column (see check_locations.py).
    location_ids = MultiCheckboxField("Probed from", coerce=int, choices=[])
    quorum = QuorumField(
        "Down when failing from",
        description="How many locations must see the check failing before it counts as down. Failing from fewer "
                    "shows it as degraded, naming where it fails. A majority is more than half of the locations "
                    "with a recent result; a location whose agent has been silent for three intervals does not "
                    "count.")

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

    def validate(self, extra_validators=None) -> bool:
        """Validate each field, then the type's settings against the TLS mode (shown next to the TLS field).

        A URL in the host field is read first: the form then holds what it
        said and is not valid yet, so that staff see it filled in before
        saving. A URL that cannot be read is refused on the host field.
        """
        if looks_like_url(self.host.data):
            refusal = self.read_url()
            if refusal is None:
                return False
            super().validate(extra_validators)  # the other fields' errors are shown beside it
            self.host.errors = [refusal]
            return False
        valid = super().validate(extra_validators)
        if self.port.errors or self.tls_mode.errors or self.settings.errors:
            return valid  # the conflict is judged on values that parse
        problem = self.tls_conflict_problem()
        if problem:
            self.tls_mode.errors.append(problem)
            return False
        return valid

    def read_url(self) -> str | None:
        """Fill the form in from the URL in the host field (``url_note`` says what it took); why it cannot, or None."""
        try:
            reading = read_url(self.check_type, self.host.data)
        except UrlError as error:
            return str(error)
        fills = {self.host: reading.host, self.port: reading.port, self.tls_mode: reading.tls.value}
        fills.update((self.settings[name], value) for name, value in reading.settings.items())
        for field, value in fills.items():
            # A field shows what was sent (raw_data) before its data: make both say the URL's value.
            field.data, field.raw_data = value, [str(value)]
        self.url_note = url_note(self.check_type, reading)
        return None

    def check_values(self) -> dict[str, Any]:
        """The check's columns as this valid form sets them (not its server or settings), by attribute name.

        A type that never speaks TLS has no TLS fields: its check keeps what it has (the defaults).
        """
        values: dict[str, Any] = {
            "label": (self.label.data or "").strip(), "host": self.host.data,
            "port": self.port.data or self.check_type.default_port, "tls_mode": self.chosen_tls(),
            "family": Family(self.family.data), "visibility": Visibility(self.visibility.data),
            "enabled": self.enabled.data, "quorum": self.quorum.data,
        }
        if "tls_name" in self:
            values.update(tls_name=self.tls_name.data or None, tls_verify=self.tls_verify.data,
                          ca_file=self.ca_file.data or None, warn_days=self.warn_days.data,
                          crit_days=self.crit_days.data)
        for name in ("interval_seconds", "timeout_seconds", "failures_before_down", "successes_before_up"):
            values[name] = self[name].data
        return values

    def settings_to_store(self) -> dict[str, Any]:
        """The type's settings as they will be saved (in clear): as typed, a secret left empty keeping its stored value.

        A stored secret that cannot be decrypted is not kept: left empty, it is saved empty.
        """
        settings = dict(self.settings.data)
        for name in self.check_type.secret_names:
            if not settings.get(name) and self.stored_settings.get(name):
                settings[name] = self.stored_settings[name]
        return settings

    def chosen_tls(self) -> TlsMode:
        """The TLS mode the check will use: the one chosen, or its port's usual one."""
        port = self.port.data or self.check_type.default_port
        return self.check_type.tls_for(port, TlsMode(self.tls_mode.data) if self.tls_mode.data else None)

    def tls_conflict_problem(self) -> str | None:
        """Why the settings (passwords kept included) cannot go with the chosen TLS mode, or None."""
        tls = self.chosen_tls()
        conflict = self.check_type.tls_conflict(self.settings_to_store(), tls)
        if conflict is None:
            return None
        problem = tls_conflict_message(conflict)
        if not self.tls_mode.data:
            port = self.port.data or self.check_type.default_port
            problem += f" (On port {port} this check type uses “{TLS_LABELS[tls]}”.)"
        return problem

    def secret_hint(self, field) -> str | None:
        """The hint under a password setting: a typed one is never shown again, a stored one is kept."""
        if field.short_name not in self.check_type.secret_names:
            return None
        if field.short_name in self.unreadable_secrets:
            return "Left empty, the check is saved without it."
        stored = bool(self.stored_settings.get(field.short_name))
        if self.is_submitted() and field.data:
            # The page is shown again (something was refused) without the password in it.
            return ("You typed a password; it is not shown again, so type it again before saving"
                    + (" (left empty, the stored one is kept)." if stored else "."))
        return "Leave empty to keep the stored password." if stored else None


def tls_mode_problem(check_type: CheckType, value: str) -> str | None:
    """Why ``check_type`` cannot use the TLS mode ``value`` (as the form sends it), or None when it can."""
    if not value or value in {mode.value for mode in check_type.tls_modes}:
        return None
    named = {mode.value: f"“{label}”" for mode, label in TLS_LABELS.items()}.get(value, "this TLS mode")
    offered = " or ".join(f"“{TLS_LABELS[mode]}”" for mode in check_type.tls_modes)
    return f"{check_type.label} checks cannot use {named}: choose {offered}."


def tls_conflict_message(conflict: TlsConflict) -> str:
    """A check type's ``TlsConflict`` in the form's words: what is wrong, then which TLS choice or change fixes it."""
    remedy = "choose " + " or ".join(f"“{TLS_LABELS[mode]}”" for mode in conflict.modes)
    if conflict.otherwise:
        remedy += f", or {conflict.otherwise}"
    return f"{conflict.reason[:1].upper()}{conflict.reason[1:]}: {remedy}."


def unreadable_secret_message(check_type: CheckType, name: str) -> str:
    """What the form says next to a stored secret that cannot be decrypted."""
    label = check_type.form_class()[name].label.text
    return (f"The stored “{label}” cannot be decrypted with the site's secret key (was it changed?): "
            "type it again.")


def url_note(check_type: CheckType, reading: UrlReading) -> str:
    """What the form took from a URL, in staff's words."""
    taken = [f"host {reading.host}", f"port {reading.port}", f"TLS “{TLS_LABELS[reading.tls]}”"]
    labels = {name: field.label.text for name, field in check_type.form_class()._fields.items()}
    taken += [f"{labels[name].lower()} {value}" for name, value in reading.settings.items()
              if name not in check_type.secret_names]
    note = f"Taken from the URL: {', '.join(taken)}. Check them, then save."
    if PASSWORD_SETTING in reading.settings:
        note += f" Its password is never put back into a page: type it in “{labels[PASSWORD_SETTING]}”."
    if reading.left_out:
        note += f" Left out ({check_type.label} checks do not use them): {' '.join(reading.left_out)}."
    return note


def form_script_data(check_type: CheckType) -> dict[str, Any]:
    """What check-form.js needs to know of ``check_type`` to hide TLS fields and read a pasted URL."""
    return {
        "defaultPort": check_type.default_port,
        "tlsByPort": {str(port): mode.value for port, mode in check_type.tls_by_port.items()},
        "otherPortsTls": check_type.default_tls(0).value,  # no port is 0: what any port not listed uses
        "urlSchemes": {scheme: {"port": port, "tls": check_type.default_tls(port).value}
                       for scheme, port in check_type.url_schemes.items()},
        "urlPath": f"settings-{check_type.url_path_setting}" if check_type.url_path_setting else None,
        "urlLogin": ([f"settings-{USERNAME_SETTING}", f"settings-{PASSWORD_SETTING}"] if takes_login(check_type)
                     else None),
    }


def uses_tls(check_type: CheckType) -> bool:
    """True when checks of ``check_type`` can speak TLS, so the form has TLS fields."""
    return check_type.tls_modes != (TlsMode.NONE,)


def check_form_class(check_type: CheckType) -> type[CheckForm]:
    """A CheckForm for ``check_type``: its TLS modes, TLS fields only if it has any, its settings as ``settings``."""
    tls_choices = [SelectChoice("", "What the check type uses on this port"),
                   *(SelectChoice(mode.value, TLS_LABELS[mode]) for mode in check_type.tls_modes)]
    fields: dict[str, Any] = {
        "check_type": check_type,
        "tls_mode": SelectField("TLS", choices=tls_choices, default="", validate_choice=False),
        "settings": FormField(check_type.form_class, label="Settings of this check type"),
    }
    if not uses_tls(check_type):
        fields.update(dict.fromkeys(TLS_FIELDS))  # None removes an inherited WTForms field
    return type(f"{check_type.form_class.__name__}Check", (CheckForm,), fields)
