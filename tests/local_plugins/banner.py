"""A local plugin file used by the tests: a "banner" check that reads one line from a TCP port."""
from wtforms import PasswordField, StringField

from ninerstatus import CheckType, ErrorKind, ProbeFailure, hookimpl


def probe(target, settings, ctx):
    """Connect, read the first line, and compare it with the expected text if one is set."""
    with ctx.session(target) as s:
        conv = s.connect()
        with s.phase("banner"):
            line = conv.read_line()
        s.details["banner"] = line
        if settings.get("expect") and settings["expect"] not in line:
            raise ProbeFailure(ErrorKind.EXPECTATION_FAILED, f"banner lacks {settings['expect']!r}")
        return s.ok(f"banner {line[:40]}")


@hookimpl
def ninerstatus_check_types():
    return [CheckType(name="banner", label="Banner", probe=probe, default_port=2525,
                      settings={"expect": StringField("Expected text", default=""),
                                "secret": PasswordField("A secret", default="")})]
