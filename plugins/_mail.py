"""What the mail probes (SMTP, IMAP, POP3) share: credentials, the polite goodbye, summary wording.

Not a plugin: it registers no hooks, it only keeps the three mail plugins
from writing the same rules three times. The FTP check borrows the rule that
no password travels without TLS (``login_conflict``, which the admin form
applies at save too) and the summary wording (``tls_phrase``), so every check
names its TLS the same way.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from types import TracebackType
from typing import Any

from wtforms import PasswordField, StringField, ValidationError, validators
from wtforms.fields import Field

from ninerstatus import ErrorKind, ProbeFailure, Status, TlsInfo, TlsMode
from ninerstatus.checktypes import TlsConflict
from ninerstatus.probing import ProbeSession, Target
from ninerstatus.probing.transcript import Transcript

# Failures after which the server is still waiting for our next command, so
# QUIT/LOGOUT still makes sense. After a timeout, a malformed reply or a TLS
# failure the stream is in an unknown state (or closed) and we just hang up.
_AT_COMMAND_BOUNDARY = frozenset({
    ErrorKind.UNEXPECTED_REPLY, ErrorKind.STARTTLS_UNAVAILABLE,
    ErrorKind.EXPECTATION_FAILED, ErrorKind.AUTH_FAILED,
})


def _no_spaces(form: Any, field: Field) -> None:
    """WTForms validator: no spaces or control characters (they would end or split a command)."""
    if field.data and any(char.isspace() or not char.isprintable() for char in field.data):
        raise ValidationError("must not contain spaces or control characters")


def _no_control_characters(form: Any, field: Field) -> None:
    """WTForms validator: no CR, LF or other control characters (a password may hold spaces)."""
    if field.data and not field.data.isprintable():
        raise ValidationError("must not contain control characters")


def needs_username(form: Any, field: Field) -> None:
    """WTForms validator for a password setting: a password alone is never used, so it needs a user name."""
    if field.data and not form.username.data:
        raise ValidationError("a password needs the test account's user name too")


def credential_settings() -> dict[str, Field]:
    """The optional test-account settings of the IMAP and POP3 checks."""
    return {
        "username": StringField("Test account user name", [validators.Optional(), _no_spaces],
                                description="Log in with this account to prove mailboxes open (needs TLS)."),
        "password": PasswordField("Test account password",
                                  [validators.Optional(), _no_control_characters, needs_username]),
    }


def token_setting(label: str, description: str) -> StringField:
    """A setting holding a few protocol words, e.g. SASL mechanisms "PLAIN LOGIN"."""
    return StringField(label, [validators.Optional(), validators.Regexp(
        r"^[A-Za-z0-9_, -]*$", message="use letters, digits, dashes and spaces only")], description=description)


def tokens(text: str | None) -> tuple[str, ...]:
    """Split a setting such as "plain, LOGIN" into upper-case words: ("PLAIN", "LOGIN")."""
    return tuple(word.upper() for word in (text or "").replace(",", " ").split())


def login_conflict(settings: Mapping[str, Any], tls: TlsMode, *,
                   anonymous: Collection[str] = ()) -> TlsConflict | None:
    """Why a check's test login cannot go with TLS mode ``tls``, or None: the ``tls_conflict`` of IMAP, POP3, FTP.

    A login over a connection that never becomes TLS would send the password in
    the clear on every run. The user name makes the login: without one there
    is no login test, and a stored password alone is never sent. Accounts named
    in ``anonymous`` (FTP's, whose password is no secret) may log in without TLS.
    """
    username = str(settings.get("username") or "")
    if tls is not TlsMode.NONE or not username or username.lower() in anonymous:
        return None
    otherwise = "leave the test account empty" + (" or use the anonymous account" if anonymous else "")
    return TlsConflict("a login test without TLS would send the password in the clear",
                       (TlsMode.STARTTLS, TlsMode.IMPLICIT), otherwise)


def credentials(settings: Mapping[str, Any], target: Target) -> tuple[str, str] | None:
    """The test account to log in with, or None; CONFIG_ERROR when it cannot be used safely (see ``login_conflict``)."""
    conflict = login_conflict(settings, target.tls)
    if conflict is not None:
        raise conflict.failure()
    username = settings.get("username") or ""
    password = settings.get("password") or ""
    if not username:
        return None
    if not password:
        raise ProbeFailure(ErrorKind.CONFIG_ERROR, "a login test needs both a user name and a password",
                           Status.UNKNOWN)
    return username, password


def login_refused(username: str, reply: str) -> ProbeFailure:
    """AUTH_FAILED for a refused test login, quoting the server.

    A password the server echoes back is masked by the session, as long as the
    probe registered it with ``transcript.add_secret`` before sending it.
    """
    return ProbeFailure(ErrorKind.AUTH_FAILED, f"login as {username} refused: {reply}".strip())


def record_capabilities(s: ProbeSession, capabilities: Iterable[str], auth: Iterable[str], *,
                        before_tls: bool = False) -> None:
    """Put what the server offers into the details: "capabilities" and "auth" (SASL mechanisms).

    ``before_tls`` files them as "capabilities_before_tls" and
    "auth_before_tls": kept for staff to compare, void for the verdict.
    """
    suffix = "_before_tls" if before_tls else ""
    s.details[f"capabilities{suffix}"] = list(capabilities)
    s.details[f"auth{suffix}"] = list(auth)


def tls_phrase(target: Target, tls: TlsInfo | None, upgrade: str, protocol: str, *, offered: bool) -> str:
    """The summary's opening words: how the connection was secured.

    "STARTTLS ok, certificate 62 days" after an upgrade, "TLS ok, ..." for
    implicit TLS, and for a plaintext check "SMTP ok" plus whether the upgrade
    was on offer.
    """
    if tls is None:
        return f"{protocol} ok" + (f", {upgrade} offered" if offered else f", no {upgrade}")
    how = upgrade if target.tls is TlsMode.STARTTLS else "TLS"
    trust = "" if tls.verified else " (unverified)"
    days = f", certificate {tls.days_left} days" if tls.days_left is not None else ""
    return f"{how} ok{trust}{days}"


class Farewell:
    """Ends a conversation politely: QUIT or LOGOUT on success and after refusals.

    Used as a context manager around the whole conversation. The goodbye is
    sent when the block succeeds or fails at a command boundary (a refusal,
    a missing capability); it is skipped after timeouts, malformed replies and
    TLS failures, when the stream can no longer carry a command. A goodbye
    that goes wrong is noted in the transcript and never changes the verdict.

    :param transcript: where a failed goodbye is noted.
    :param say_goodbye: sends QUIT/LOGOUT and reads the reply.
    """

    def __init__(self, transcript: Transcript, say_goodbye: Callable[[], object]) -> None:
        self._transcript = transcript
        self._say_goodbye = say_goodbye
        self._wanted = True

    def skip(self) -> None:
        """Send no goodbye, e.g. after the server has said BYE itself."""
        self._wanted = False

    def __enter__(self) -> Farewell:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        at_boundary = exc is None or (isinstance(exc, ProbeFailure) and exc.kind in _AT_COMMAND_BOUNDARY)
        if not (self._wanted and at_boundary):
            return
        try:
            self._say_goodbye()
        except ProbeFailure as failure:
            self._transcript.note(f"no proper goodbye: {failure.message}")
