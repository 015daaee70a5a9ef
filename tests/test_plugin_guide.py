"""Meta-tests: every hook is documented in docs/plugins.md and has a test; the guide's code is sound.

``HOOK_TESTS`` below names, for each hook of ``ninerstatus/hookspecs.py``, the
test in this file that shows a plugin implementing it is called as the guide
says. Adding a hook without a test or a section in the guide fails here.
"""
from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import textwrap
import tomllib
from pathlib import Path

import pytest

from ninerstatus import CheckType, ErrorKind, ProbeResult, Status, create_app, get_plugins, hookspecs

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
