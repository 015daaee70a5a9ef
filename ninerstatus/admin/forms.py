"""The staff forms; every one carries a CSRF token through Flask-WTF.

Titles, tag names and server fields are plain text: they are stored as typed
and escaped wherever they are shown. Only post and update bodies are HTML,
and those are sanitised by ``markup.py`` when saved.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (BooleanField, EmailField, HiddenField, IntegerField, PasswordField, RadioField, SelectChoice,
                     SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.fields import DateTimeLocalField
from wtforms.validators import (DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional,
                                Regexp, ValidationError)
from wtforms.widgets import CheckboxInput, ListWidget

from ..models import AffectedState, IncidentImpact, PostKind, Role, UpdateState, Visibility
from .contention import database_was_busy

MIN_PASSWORD_LENGTH = 10
# Generous: a passphrase or a manager's 64 random characters must fit as typed.
MAX_PASSWORD_LENGTH = 1024


class StaffForm(FlaskForm):
    """A staff form; never valid while it is shown again because the database was too busy to save it."""

    def validate(self, extra_validators=None) -> bool:
        """Each field's own rules; always False when the save was refused for a busy database."""
        return super().validate(extra_validators) and not database_was_busy()


def _choices(enum_cls) -> list[SelectChoice]:
    return [SelectChoice(member.value, member.value.capitalize()) for member in enum_cls]


class SignInForm(StaffForm):
    """E-mail address and password."""

    email = EmailField("E-mail address", validators=[DataRequired(), Length(max=254)])
    # Not stripped: a password is taken exactly as typed, spaces and all.
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    remember = BooleanField("Keep me signed in on this device for 30 days")


class PasswordChangeForm(StaffForm):
    """The current password and a new one, typed twice."""

    current = PasswordField("Current password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    new = PasswordField("New password", validators=[
        DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH,
                               message=f"Use at least {MIN_PASSWORD_LENGTH} characters "
                                       f"(and at most {MAX_PASSWORD_LENGTH}).")])
    repeat = PasswordField("New password again", validators=[
        DataRequired(), EqualTo("new", message="The two new passwords are not the same.")])


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes, one per choice."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def tidy_tag_name(text: str | None) -> str:
    """A tag name as it is stored: no spaces at either end, one space between words."""
    return " ".join((text or "").split())


def tag_key(name: str) -> str:
    """What two tag names share when they name the same tag: their tidy form, ignoring case."""
    return tidy_tag_name(name).casefold()


def parse_tag_names(text: str) -> list[str]:
    """Split comma-separated tag names, tidy their spaces and drop repeats (ignoring case)."""
    names: dict[str, str] = {}
    for raw in (text or "").split(","):
        name = tidy_tag_name(raw)
        if name:
            names.setdefault(tag_key(name), name)
    return list(names.values())


#: What each impact means for customers (after Statuspage's levels), shown beside the choice.
IMPACT_HELP = {
    IncidentImpact.NONE: "No visible effect on customers: a heads-up, or a fault caught before anyone noticed.",
    IncidentImpact.MINOR: "Some customers notice: a service is slow, or fails for a few of them.",
    IncidentImpact.MAJOR: "Many customers notice: a service fails for a large part of them.",
    IncidentImpact.CRITICAL: "A service is down for everyone who uses it.",
}
#: "No change" is stored as None: the servers show what the probes see.
NO_CHANGE = ""
AFFECTED_CHOICES = [
    SelectChoice(NO_CHANGE, "No change: they show what the probes see"),
    SelectChoice(AffectedState.DEGRADED.value, "Degraded: working, but slowly or with errors"),
    SelectChoice(AffectedState.PARTIAL_OUTAGE.value, "Partial outage: some of their services fail"),
    SelectChoice(AffectedState.MAJOR_OUTAGE.value, "Major outage: they are down"),
]
#: The longest timeline note staff may type on the post form (an update's text, not a post).
MAX_NOTE_LENGTH = 5000


class PostForm(StaffForm):
    """A post: title, body, kind, tags, affected servers and when to publish; an incident's state and impact."""

    title = StringField("Title", validators=[DataRequired(message="Give the post a title."), Length(max=200)])
    body = TextAreaField("Text")
    kind = RadioField("Kind", choices=_choices(PostKind), default=PostKind.INCIDENT.value)
    tags = StringField("Tags", description="Separate tags with commas; new ones are created.",
                       validators=[Length(max=1000)])
    servers = MultiCheckboxField("Affected servers", coerce=int)
    publish_at = DateTimeLocalField("Publish at (UTC)", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    # A maintenance post's window: its servers are under maintenance in between.
    starts_at = DateTimeLocalField("Maintenance starts (UTC)", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    ends_at = DateTimeLocalField("Maintenance ends (UTC)", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    # An incident's state now, how bad it is and what it does to its servers (ignored for other kinds).
    incident_state = RadioField("Incident state", choices=_choices(UpdateState),
                                default=UpdateState.INVESTIGATING.value)
    impact = RadioField("Impact", choices=[SelectChoice(level.value, level.value.capitalize())
                                           for level in IncidentImpact], default=IncidentImpact.MINOR.value)
    affected_state = RadioField("Affected servers show", choices=AFFECTED_CHOICES, default=NO_CHANGE)
    state_note = TextAreaField("Timeline note", validators=[Length(max=MAX_NOTE_LENGTH)])
    # The newest update when the form was shown, so a save from a page left open while someone
    # else moved the timeline on does not move it back.
    timeline_seen = HiddenField()
    quiet = BooleanField("Do not notify subscribers",
                         description="For a minor post or change: publish it without mailing the subscribers.")

    #: Fields that only mean something for an incident.
    INCIDENT_FIELDS = ("incident_state", "impact", "affected_state", "state_note", "timeline_seen")

    def validate(self, extra_validators=None) -> bool:
        """Each field's own rules, then the maintenance window's (an empty field skips its own validators).

        The incident fields do not count for other kinds: a notice is never
        refused over a choice it does not use.
        """
        valid = super().validate(extra_validators)
        if self.kind.data != PostKind.INCIDENT.value:
            for name in self.INCIDENT_FIELDS:
                self[name].errors = []
            valid = not self.errors and not database_was_busy()
        problem = self.window_problem()
        if problem:
            self.ends_at.errors.append(problem)
        return valid and problem is None

    def window_problem(self) -> str | None:
        """What is wrong with a maintenance post's window: both ends or neither, the end after the start."""
        if self.kind.data != PostKind.MAINTENANCE.value or self.starts_at.errors or self.ends_at.errors:
            return None
        starts, ends = self.starts_at.data, self.ends_at.data
        if (starts is None) != (ends is None):
            return "Give the maintenance both a start and an end, or neither."
        if ends is not None and ends <= starts:
            return "The maintenance must end after it starts."
        return None

    def validate_tags(self, field) -> None:
        """Each tag fits its column."""
        too_long = [name for name in parse_tag_names(field.data) if len(name) > 64]
        if too_long:
            raise ValidationError(f"Tags are at most 64 characters: shorten “{too_long[0][:40]}…”.")


class UpdateForm(StaffForm):
    """An incident update: the state now and what changed."""

    state = SelectField("State", choices=_choices(UpdateState), default=UpdateState.INVESTIGATING.value)
    body = TextAreaField("Update", validators=[DataRequired(message="Write what changed.")])
    quiet = BooleanField("Do not notify subscribers")


class ServerForm(StaffForm):
    """A server as listed under "Systems at a Glance"."""

    code = StringField("Code", validators=[
        DataRequired(), Length(max=32),
        # The code is part of the server's address (/servers/NC036).
        Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", message="Use letters, digits, dots, dashes and underscores.")])
    role = StringField("Role", validators=[Length(max=80)])
    city = StringField("City", validators=[Length(max=80)])
    country = StringField("Country", validators=[Length(max=80)])
    visibility = RadioField("Status shown to visitors", choices=[
        SelectChoice(Visibility.PUBLIC.value, "Public: visitors see its live status"),
        SelectChoice(Visibility.INTERNAL.value, "Internal: listed as INTERNAL, status hidden")],
        default=Visibility.PUBLIC.value)
    display_order = IntegerField("Position", default=0, validators=[InputRequired(), NumberRange(0, 100000)])
    notes = TextAreaField("Notes shown on its page", validators=[Length(max=5000)])

    def server_values(self) -> dict:
        """The server's columns as this valid form sets them, by attribute name."""
        values = {name: self[name].data for name in ("code", "role", "city", "country", "display_order", "notes")}
        values["visibility"] = Visibility(self.visibility.data)
        return values


class TagForm(StaffForm):
    """A tag's name and the address of its page."""

    name = StringField("Name", filters=[tidy_tag_name], validators=[DataRequired(), Length(max=64)])
    slug = StringField("Address", description="Changing it breaks links and feed subscriptions to the old one.",
                       validators=[DataRequired(), Length(max=80),
                                   Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$",
                                          message="Use lowercase letters and digits joined by single dashes.")])


class TagMergeForm(StaffForm):
    """The tag that takes over another tag's posts."""

    target = SelectField("Merge into", coerce=int)


class AccountForm(StaffForm):
    """A staff account as an admin sees it; the password is set only when typed."""

    email = EmailField("E-mail address", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name shown to other staff", validators=[Length(max=120)])
    role = RadioField("Role", choices=[
        SelectChoice(Role.EDITOR.value, "Editor: writes posts, incident updates and tags"),
        SelectChoice(Role.ADMIN.value, "Admin: also servers, checks and accounts")],
        default=Role.EDITOR.value)
    active = BooleanField("May sign in", default=True)
    password = PasswordField("New password", description="Leave empty to keep the current one.",
                             validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH,
                                                            message=f"Use at least {MIN_PASSWORD_LENGTH} characters.")])


def one_line(text: str | None) -> str:
    """A text field's value with its runs of spaces made one; "" for a field the request left out (None)."""
    return " ".join((text or "").split())


class LocationForm(StaffForm):
    """A probe location: where it is, the network it sees the world through, and the checks it probes."""

    name = StringField("Name", description="As visitors read it, e.g. the city: Lusaka.",
                       validators=[DataRequired(), Length(max=80)])
    city = StringField("City", validators=[Length(max=80)])
    country = StringField("Country", validators=[Length(max=80)])
    network = StringField("Network or ISP", description="Named beside the location: Lusaka (MTN).",
                          validators=[Length(max=80)])
    checks = SelectMultipleField("Checks probed from here", coerce=int, option_widget=CheckboxInput(),
                                 widget=ListWidget(prefix_label=False), validate_choice=True)

    def location_values(self) -> dict[str, str]:
        """The location's columns as this valid form sets them, each with its runs of spaces made one."""
        return {name: one_line(self[name].data) for name in ("name", "city", "country", "network")}
