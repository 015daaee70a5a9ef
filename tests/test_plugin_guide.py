"""Meta-tests: every hook is documented in docs/plugins.md and has a test; the guide's code is sound.

``HOOK_TESTS`` below names, for each hook of ``ninerstatus/hookspecs.py``, the
test in this file that shows a plugin implementing it is called as the guide
says. Adding a hook without a test or a section in the guide fails here.

The guide's API reference gives every public method of the objects a probe
works with (``REFERENCED``) with its signature; a method added, removed or
changed in the code without the same change in the guide fails here too.
"""
from __future__ import annotations

import ast
import dataclasses
import inspect
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from enum import Enum
from pathlib import Path

import pytest

from ninerstatus import CheckType, ErrorKind, ProbeResult, Status, create_app, get_plugins, hookspecs
from ninerstatus.probing import Conversation, Deadline, ProbeContext, ProbeSession, Reply, Target, run_probe
from ninerstatus.probing.deadline import DeadlineSocket
from ninerstatus.probing.result import MAX_PHASES, PHASE_NAME
from ninerstatus.probing.transcript import Transcript

from .guide_examples import install_frames_example, toy_frames_server  # noqa: F401 - a fixture

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "plugins.md"
RECORDER = '''
from ninerstatus import CheckType, ProbeResult, Status, hookimpl

CALLS = []

def probe(target, settings, ctx):
    return ProbeResult(Status.OK, "recorded")

@hookimpl
def ninerstatus_check_types():
    return [CheckType(name="recorded", label="Recorded", probe=probe, default_port=7)]

@hookimpl
def ninerstatus_template_folders():
    import pathlib
    return [str(pathlib.Path(__file__).parent / "recorder_templates")]

@hookimpl
def ninerstatus_app_ready(app):
    CALLS.append(("app_ready", app.name))

@hookimpl
def ninerstatus_probe_completed(check, result):
    CALLS.append(("probe_completed", check, result.summary))

@hookimpl
def ninerstatus_status_changed(check, previous, current, result):
    CALLS.append(("status_changed", check, previous, current, result.summary))
'''


def hook_names() -> list[str]:
    """The hooks declared in hookspecs.py."""
    marker = f"{hookspecs.PROJECT}_spec"
    return sorted(name for name, value in vars(hookspecs).items() if callable(value) and hasattr(value, marker))


def guide_blocks(language: str) -> list[str]:
    """The fenced code blocks of the guide in ``language``."""
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(), flags=re.S)


@pytest.fixture
def recorder_app(tmp_path):
    """An app with a local plugin implementing every hook, and that plugin's record of calls."""
    folder = tmp_path / "plugins"
    (folder / "recorder_templates").mkdir(parents=True)
    (folder / "recorder_templates" / "recorder_widget.html").write_text("recorded {{ value }}")
    (folder / "recorder.py").write_text(textwrap.dedent(RECORDER))
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}",
                      "PLUGINS_FOLDER": str(folder)})
    module = get_plugins(app).manager.get_plugin("recorder")
    return app, module.CALLS


def recorder_hook(app, name: str):
    """Hook ``name`` of ``app`` calling the recorder only: other plugins (notifiers) stay out of it."""
    manager = get_plugins(app).manager
    recorder = manager.get_plugin("recorder")
    return manager.subset_hook_caller(name, remove_plugins=[p for p in manager.get_plugins() if p is not recorder])


def test_check_types_hook_registers_the_plugins_check_type(recorder_app):
    app, _ = recorder_app
    assert get_plugins(app).check_types["recorded"].label == "Recorded"


def test_template_folders_hook_adds_a_searched_folder(recorder_app):
    app, _ = recorder_app
    with app.app_context():
        assert app.jinja_env.get_template("recorder_widget.html").render(value=3) == "recorded 3"


def test_app_ready_hook_is_called_once_with_the_built_app(recorder_app):
    app, calls = recorder_app
    assert calls == [("app_ready", app.name)]


def test_probe_completed_hook_receives_the_check_and_the_result(recorder_app):
    app, calls = recorder_app
    result = ProbeResult(Status.CRITICAL, "connection refused", error_kind=ErrorKind.CONNECT_REFUSED)
    recorder_hook(app, "ninerstatus_probe_completed")(check="smtp check", result=result)
    assert calls[-1] == ("probe_completed", "smtp check", "connection refused")


def test_status_changed_hook_receives_both_states_and_the_result(recorder_app):
    app, calls = recorder_app
    result = ProbeResult(Status.OK, "back")
    recorder_hook(app, "ninerstatus_status_changed")(check="imap check", previous="critical", current="ok",
                                                     result=result)
    assert calls[-1] == ("status_changed", "imap check", "critical", "ok", "back")


HOOK_TESTS = {
    "ninerstatus_check_types": test_check_types_hook_registers_the_plugins_check_type,
    "ninerstatus_template_folders": test_template_folders_hook_adds_a_searched_folder,
    "ninerstatus_app_ready": test_app_ready_hook_is_called_once_with_the_built_app,
    "ninerstatus_probe_completed": test_probe_completed_hook_receives_the_check_and_the_result,
    "ninerstatus_status_changed": test_status_changed_hook_receives_both_states_and_the_result,
}


def test_every_hook_has_a_test():
    assert sorted(HOOK_TESTS) == hook_names()


def test_every_hook_test_implements_the_hooks_documented_arguments():
    # The recorder's signatures must be the hookspecs' own, or pluggy would
    # quietly pass fewer arguments than the guide promises.
    tree = ast.parse(RECORDER)
    implemented = {node.name: [arg.arg for arg in node.args.args] for node in tree.body
                   if isinstance(node, ast.FunctionDef) and node.name.startswith("ninerstatus_")}
    for name in hook_names():
        assert implemented[name] == list(inspect.signature(getattr(hookspecs, name)).parameters), name


def test_every_hook_has_a_section_in_the_guide():
    headings = re.findall(r"^### (\S+)$", GUIDE.read_text(), flags=re.M)
    assert sorted(h for h in headings if h.startswith("ninerstatus_")) == hook_names()


def test_guide_shows_every_hooks_parameters():
    text = GUIDE.read_text()
    for name in hook_names():
        params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert f"`{name}({params})" in text, name


def test_guide_lists_every_error_kind():
    text = GUIDE.read_text()
    assert [kind.value for kind in ErrorKind if f"`{kind.value}`" not in text] == []


def test_guide_python_examples_compile():
    blocks = guide_blocks("python")
    assert len(blocks) >= 3
    for block in blocks:
        compile(block, str(GUIDE), "exec")


def test_guide_entry_point_example_matches_the_example_distribution():
    (snippet,) = guide_blocks("toml")
    example = tomllib.loads((ROOT / "examples" / "ninerstatus-ssh-banner" / "pyproject.toml").read_text())
    assert tomllib.loads(snippet)["project"]["entry-points"] == example["project"]["entry-points"]
    assert "ninerstatus" in example["project"]["entry-points"]


def test_guide_counts_and_names_every_bundled_check_type(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}",
                      "PLUGINS_FOLDER": str(tmp_path / "no_local_plugins")})
    bundled = list(get_plugins(app).check_types)
    numbers = dict(enumerate("zero one two three four five six seven eight nine ten eleven twelve".split()))
    opening = GUIDE.read_text().split("\n\n")[1]
    assert f"The {numbers[len(bundled)]} bundled check types" in opening
    assert [name for name in bundled if f"`{name}`" not in opening] == []


def test_guide_documents_every_check_type_field():
    table = GUIDE.read_text().split("## Check types")[1].split("##")[0]
    fields = [field.name for field in dataclasses.fields(CheckType)]
    assert [name for name in fields if f"| `{name}` |" not in table] == []


#: The classes whose public methods the guide's API reference lists.
REFERENCED = (ProbeContext, ProbeSession, Conversation, Reply, DeadlineSocket, Transcript, Deadline)


class _Shown(str):
    """Text that ``inspect`` prints as it is (an annotation or a default), not quoted."""

    def __repr__(self) -> str:
        return str(self)


def _shown_annotation(annotation: object) -> object:
    if annotation is inspect.Parameter.empty:
        return annotation
    # The probing modules use postponed annotations: the text is what the source says.
    return _Shown(annotation if isinstance(annotation, str) else inspect.formatannotation(annotation))


def _shown_default(default: object) -> object:
    if default is inspect.Parameter.empty:
        return default
    return _Shown(f"{type(default).__name__}.{default.name}" if isinstance(default, Enum) else repr(default))


def documented_form(cls: type, name: str, member: object) -> str:
    """How the guide writes ``member``: ``Class.method(params) -> Return`` or ``Class.property -> Type``."""
    if isinstance(member, property):
        return f"{cls.__name__}.{name} -> {_shown_annotation(inspect.signature(member.fget).return_annotation)}"
    function = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
    signature = inspect.signature(function)
    bound = not isinstance(member, staticmethod)  # self or cls comes first, and is not written
    parameters = [parameter.replace(annotation=_shown_annotation(parameter.annotation),
                                    default=_shown_default(parameter.default))
                  for parameter in list(signature.parameters.values())[bound:]]
    shown = signature.replace(parameters=parameters,
                              return_annotation=_shown_annotation(signature.return_annotation))
    return f"{cls.__name__}.{name}{shown}"


def public_methods(cls: type) -> dict[str, str]:
    """The public methods and properties of ``cls`` (inherited ones too), by name, in their documented form."""
    fields = {field.name for field in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    members = {}
    for klass in reversed(cls.__mro__[:-1]):
        for name, member in vars(klass).items():
            if name.startswith("_") or name in fields:
                continue
            if inspect.isfunction(member) or isinstance(member, (property, classmethod, staticmethod)):
                members[name] = documented_form(cls, name, member)
    return members


def api_reference_problems(guide: str) -> list[str]:
    """What the guide's API reference gets wrong about ``REFERENCED``: missing, different or stale entries."""
    reference = guide.split("\n## API reference\n", 1)[-1].split("\n## ", 1)[0]
    classes = "|".join(cls.__name__ for cls in REFERENCED)
    documented = {(entry[2], entry[3]): " ".join(entry[1].split())
                  for entry in re.finditer(rf"^- `(({classes})\.(\w+)[^`]*)`", reference, flags=re.M)}
    problems = []
    for cls in REFERENCED:
        for name, form in public_methods(cls).items():
            said = documented.pop((cls.__name__, name), None)
            if said is None:
                problems.append(f"{cls.__name__}.{name} is missing; document it as `{form}`")
            elif said != form:
                problems.append(f"the guide says `{said}`, the code is `{form}`")
    problems += [f"the guide documents {cls}.{name}, which the code does not have" for cls, name in documented]
    return problems


def test_guide_gives_every_public_probing_method_with_its_signature():
    assert api_reference_problems(GUIDE.read_text()) == []


def test_api_reference_check_reports_a_method_missing_from_the_guide():
    guide = GUIDE.read_text()
    entry = re.search(r"^- `Conversation\.read_exact\(.*$", guide, flags=re.M)[0]
    assert api_reference_problems(guide.replace(entry, "")) == [
        "Conversation.read_exact is missing; document it as `Conversation.read_exact(count: int) -> bytes`"]


@pytest.mark.parametrize(("documented", "changed"), [
    ("Conversation.read_exact(count: int) -> bytes", "Conversation.read_exact(n: int) -> bytes"),
    ("Conversation.read_exact(count: int) -> bytes", "Conversation.read_exact(count: int) -> str"),
    ("Conversation.read_reply(*, strict: bool = True) -> Reply", "Conversation.read_reply(strict: bool = True) -> Reply"),
    ("Deadline.remaining(kind: ErrorKind = ErrorKind.READ_TIMEOUT) -> float", "Deadline.remaining() -> float"),
    ("Reply.text -> str", "Reply.text -> bytes"),
])
def test_api_reference_check_reports_a_signature_that_differs_from_the_code(documented, changed):
    guide = GUIDE.read_text()
    assert f"`{documented}`" in guide
    assert api_reference_problems(guide.replace(f"`{documented}`", f"`{changed}`")) == [
        f"the guide says `{changed}`, the code is `{documented}`"]


def test_api_reference_check_reports_an_entry_the_code_does_not_have():
    guide = GUIDE.read_text().replace("\n### Reply\n", "\n- `Conversation.read_all() -> bytes`: gone.\n\n### Reply\n")
    assert api_reference_problems(guide) == ["the guide documents Conversation.read_all, which the code does not have"]


def read_frame(self, *, limit: int = 1024) -> bytes:
    """A method a later release might add."""


@pytest.mark.parametrize("added", [read_frame, classmethod(read_frame), staticmethod(read_frame)],
                         ids=["method", "classmethod", "staticmethod"])
def test_api_reference_check_sees_a_method_added_to_the_code(monkeypatch, added):
    monkeypatch.setattr(Conversation, "read_frame", added, raising=False)
    form = "(self, *, limit: int = 1024)" if isinstance(added, staticmethod) else "(*, limit: int = 1024)"
    assert api_reference_problems(GUIDE.read_text()) == [
        f"Conversation.read_frame is missing; document it as `Conversation.read_frame{form} -> bytes`"]


def check_with_the_frames_example(instance, port: int, *options: str) -> subprocess.CompletedProcess:
    """``ninerstatus check frames`` on a site whose instance folder holds the guide's frames plugin."""
    install_frames_example(instance / "plugins")
    env = {key: value for key, value in os.environ.items() if not key.startswith("NINERSTATUS_")}
    env["NINERSTATUS_INSTANCE_PATH"] = str(instance)
    return subprocess.run([str(Path(sys.executable).with_name("ninerstatus")), "check", "frames", "--host",
                           "127.0.0.1", "--port", str(port), *options],
                          env=env, capture_output=True, text=True, timeout=120)


def test_guide_frames_example_prints_its_own_phases_as_nagios_perfdata(tmp_path, toy_frames_server):
    checked = check_with_the_frames_example(tmp_path, toy_frames_server.port, "--nagios")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    line, perfdata = checked.stdout.strip().split(" | ")
    assert line == "FRAMES OK - FRAMES/1 toy server"
    assert re.findall(r"'([^']+)'=[0-9.]+s;;;0;", perfdata) == ["time_resolve", "time_connect", "time_greeting",
                                                                "time_ping", "time"]


def test_guide_frames_example_records_the_transcript_the_guide_shows(tmp_path, toy_frames_server):
    checked = check_with_the_frames_example(tmp_path, toy_frames_server.port)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    timings = re.search(r"^  timings: (.*)$", checked.stdout, flags=re.M)[1]
    assert re.findall(r"(\w+) [0-9.]+ ms", timings) == ["resolve", "connect", "greeting", "ping", "total"]
    transcript = checked.stdout.split("  transcript:\n")[1].splitlines()
    shown = re.search(r"readably,.*?```\n(.*?)```", GUIDE.read_text(), flags=re.S)[1]
    assert [line.strip() for line in transcript] == [line.strip() for line in shown.strip().splitlines()]


def test_guide_states_the_phase_rules_the_session_enforces():
    text = " ".join(GUIDE.read_text().split())
    assert f"(`{PHASE_NAME.pattern}`)" in text
    assert f"more than {MAX_PHASES - 1} distinct phases in one probe" in text

    def times_total(target, settings, ctx):
        with ctx.session(target) as s, s.phase("total"):
            return s.ok("never")

    result = run_probe(times_total, Target("127.0.0.1", 7), {}, timeout=1)
    assert f"`{result.summary}`" in text
