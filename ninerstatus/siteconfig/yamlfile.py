"""Reading the configuration file as YAML, keeping the line of every key and value.

PyYAML's composer gives each node of the document its position; the values
are built from those nodes here (instead of ``safe_load``) so that an error
found later, in a field deep in the file, can still name its line. A key
given twice in one mapping is an error: YAML loaders usually keep the last
one silently, and in a file people edit by hand that hides a mistake.
"""
from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml


@dataclass(frozen=True)
class Problem:
    """Something wrong in the file: where (line, the field's dotted path) and what, in words."""

    line: int
    path: str
    message: str

    def told(self, filename: str) -> str:
        """The problem as one line: ``FILE:LINE: FIELD: message``."""
        where = f"{self.path}: " if self.path else ""
        return f"{filename}:{self.line}: {where}{self.message}"


class InvalidFile(Exception):
    """The file cannot be used; ``problems`` says every reason found, each with its line and field."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda problem: problem.line)
        super().__init__("; ".join(f"line {p.line}: {p.path}: {p.message}" for p in self.problems))


@dataclass
class Located:
    """A value of the file and the line it starts on.

    A mapping's value is a dict of ``Located`` values (``key_lines`` gives the
    line of each key), a sequence's a list of them, a scalar's the Python
    value YAML reads it as (text, number, true/false, null).
    """

    value: Any
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)

    @property
    def plain(self) -> Any:
        """The value with every position left out (plain dicts, lists and scalars)."""
        if isinstance(self.value, dict):
            return {key: item.plain for key, item in self.value.items()}
        if isinstance(self.value, list):
            return [item.plain for item in self.value]
        return self.value


def _located(node: yaml.Node, loader: yaml.SafeLoader, path: str, problems: list[Problem]) -> Located:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        mapping = Located({}, line)
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                problems.append(Problem(key_line, path, "a key must be a plain name"))
                continue
            key = key_node.value
            where = f"{path}.{key}" if path else key
            if key in mapping.value:
                problems.append(Problem(key_line, where, f"given twice (first on line {mapping.key_lines[key]})"))
                continue
            mapping.key_lines[key] = key_line
            mapping.value[key] = _located(value_node, loader, where, problems)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return Located([_located(item, loader, f"{path}[{index}]", problems)
                        for index, item in enumerate(node.value)], line)
    return Located(loader.construct_object(node), line)


def load(text: str) -> Located:
    """The document in ``text`` with its positions; ``InvalidFile`` for text that is not YAML (with its line).

    An empty file reads as an empty mapping.
    """
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        raise InvalidFile([Problem(line, "", f"not valid YAML: {error.problem or error.context}")]) from None
    except yaml.YAMLError as error:
        raise InvalidFile([Problem(1, "", f"not valid YAML: {error}")]) from None
    finally:
        loader.dispose()
    if root is None:
        return Located({}, 1)
    problems: list[Problem] = []
    try:
        document = _located(root, loader, "", problems)
    except yaml.constructor.ConstructorError as error:
        mark = error.problem_mark or error.context_mark
        raise InvalidFile([Problem(mark.line + 1 if mark else 1, "", str(error.problem))]) from None
    if problems:
        raise InvalidFile(problems)
    return document


#: Text written without quotes when YAML reads it back as the same text (names, hosts, paths).
_PLAIN = re.compile(r"[A-Za-z0-9_./@(][A-Za-z0-9_./@()+,:-]*(?: [A-Za-z0-9_./@()+,-]+)*")


def dump_scalar(value: Any, in_list: bool = False) -> str:
    """``value`` (text, number, true/false, null, or a list of those) as YAML on one line."""
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(dump_scalar(item, in_list=True) for item in value) + "]"
    text = str(value)
    # Plain when YAML reads it back as this very text where it stands (in a list, a comma would split it).
    if _PLAIN.fullmatch(text) and yaml.safe_load(f"[{text}]" if in_list else text) == ([text] if in_list else text):
        return text
    # A JSON string is a YAML double-quoted scalar: every character survives, line breaks included.
    return json.dumps(text, ensure_ascii=False)
