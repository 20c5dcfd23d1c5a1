"""Read and validate knowledge/*.yml into a KnowledgeBase, reporting problems by file, line and field.

Validation has two layers: each file against the pydantic models (shape, types, dates), then the whole
set for references between records (a fact's topic exists, a source id is known, a placeholder names a
parameter). Nothing is written anywhere here; the store loads a KnowledgeBase that passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from visafaq.knowledge.documents import (
    PLACEHOLDER,
    Checklist,
    Fact,
    KnowledgeFile,
    Parameter,
    ParameterVersion,
    Programme,
    ResidenceStatus,
    Rule,
    Source,
    Topic,
    WorkField,
)

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class KnowledgeError(Exception):
    """The knowledge files are not valid; `problems` lists every one found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class _Loader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text: pydantic parses them, so a bad date is reported with
    its file, line and field instead of failing inside the YAML library."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _LineMap:
    """Line numbers (1-based) of every mapping key and sequence item in a YAML document."""

    def __init__(self) -> None:
        self.lines: dict[Path_, int] = {}

    def record(self, node: yaml.Node, path: Path_ = ()) -> None:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = str(key_node.value)
                self.record(value_node, (*path, key))
                self.lines[(*path, key)] = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.record(item, (*path, index))

    def line_of(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest recorded ancestor (a missing field's record)."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None


def _field_name(path: Iterable[str | int]) -> str:
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
    return name


@dataclass
class _Origin:
    file: str
    lines: _LineMap
    path: Path_

    def problem(self, field_: str, message: str) -> Problem:
        return Problem(
            self.file,
            self.lines.line_of((*self.path, field_)),
            _field_name((*self.path, field_)),
            message,
        )


@dataclass
class KnowledgeBase:
    """Every record from knowledge/, validated, keyed by id."""

    sources: dict[str, Source] = field(default_factory=dict)
    programmes: dict[str, Programme] = field(default_factory=dict)
    fields: dict[str, WorkField] = field(default_factory=dict)
    topics: dict[str, Topic] = field(default_factory=dict)
    facts: dict[str, Fact] = field(default_factory=dict)
    parameters: dict[str, Parameter] = field(default_factory=dict)
    checklists: dict[str, Checklist] = field(default_factory=dict)
    statuses: dict[str, ResidenceStatus] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)

    def parameter_version(self, parameter_id: str, on: date) -> ParameterVersion | None:
        parameter = self.parameters.get(parameter_id)
        if parameter is None:
            return None
        return next((v for v in parameter.versions if v.in_force_on(on)), None)


SECTIONS = (
    "sources",
    "programmes",
    "fields",
    "topics",
    "facts",
    "parameters",
    "checklists",
    "statuses",
    "rules",
)


def _parse_file(path: Path, display: str, problems: list[Problem]) -> tuple[KnowledgeFile, _LineMap] | None:
    text = path.read_text(encoding="utf-8")
    lines = _LineMap()
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data: Any = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(error, "problem", None) or str(error)
        problems.append(Problem(display, line, "", f"not valid YAML: {reason}"))
        return None
    finally:
        loader.dispose()
    if node is None or data is None:
        return KnowledgeFile(), lines
    lines.record(node)
    if not isinstance(data, dict):
        problems.append(Problem(display, lines.line_of(()), "", "the file must be a mapping of sections"))
        return None
    try:
        return KnowledgeFile.model_validate(data), lines
    except ValidationError as error:
        for detail in error.errors():
            location = tuple(detail["loc"])
            message = detail["msg"]
            if detail["type"] == "extra_forbidden":
                message = "unknown field (check its spelling)"
            problems.append(Problem(display, lines.line_of(location), _field_name(location), message))
        return None


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in {".yml", ".yaml"} and p.is_file())


def read_knowledge(directory: Path) -> KnowledgeBase:
    """Validate every YAML file under `directory`; raise KnowledgeError listing all problems."""
    if not directory.is_dir():
        raise KnowledgeError([Problem(str(directory), None, "", "no such directory")])
    problems: list[Problem] = []
    base = KnowledgeBase()
    origins: dict[tuple[str, str], _Origin] = {}
    for path in _files(directory):
        display = str(path.relative_to(directory.parent)) if directory.parent != path else str(path)
        parsed = _parse_file(path, display, problems)
        if parsed is None:
            continue
        document, lines = parsed
        for section in SECTIONS:
            target: dict[str, Any] = getattr(base, section)
            for index, record in enumerate(getattr(document, section)):
                origin = _Origin(display, lines, (section, index))
                if record.id in target:
                    first = origins[(section, record.id)]
                    problems.append(
                        origin.problem(
                            "id",
                            f"duplicate id {record.id!r} (first defined at {first.file}:"
                            f"{first.lines.line_of(first.path)})",
                        )
                    )
                    continue
                target[record.id] = record
                origins[(section, record.id)] = origin
    if not problems:
        problems.extend(_check_references(base, origins))
    if problems:
        raise KnowledgeError(problems)
    return base


def _check_references(base: KnowledgeBase, origins: dict[tuple[str, str], _Origin]) -> Iterator[Problem]:
    def missing(
        section: str, record_id: str, field_: str, kind: str, wanted: str, known: Iterable[str]
    ) -> Iterator[Problem]:
        if wanted not in known:
            yield origins[(section, record_id)].problem(field_, f"unknown {kind} {wanted!r}")

    for programme in base.programmes.values():
        if programme.successor:
            yield from missing(
                "programmes",
                programme.id,
                "successor",
                "programme",
                programme.successor,
                base.programmes,
            )
    for section in ("facts", "parameters", "checklists", "statuses"):
        for record in getattr(base, section).values():
            yield from missing(section, record.id, "programme", "programme", record.programme, base.programmes)
    for topic in base.topics.values():
        for index, follow_up in enumerate(topic.follow_ups):
            yield from missing("topics", topic.id, f"follow_ups[{index}]", "topic", follow_up, base.topics)
    for fact in base.facts.values():
        yield from missing("facts", fact.id, "topic", "topic", fact.topic, base.topics)
        for name in fact.placeholders():
            yield from missing("facts", fact.id, "text", "parameter in {…}", name, base.parameters)
        if fact.superseded_by:
            yield from missing("facts", fact.id, "superseded_by", "fact", fact.superseded_by, base.facts)
    for rule in base.rules.values():
        for index, name in enumerate(rule.parameters):
            yield from missing("rules", rule.id, f"parameters[{index}]", "parameter", name, base.parameters)
        for name in PLACEHOLDER.findall(rule.text):
            yield from missing("rules", rule.id, "text", "parameter in {…}", name, base.parameters)
    for section in ("facts", "checklists", "statuses", "rules"):
        for record in getattr(base, section).values():
            for index, source in enumerate(record.sources):
                yield from missing(section, record.id, f"sources[{index}]", "source", source, base.sources)
    for parameter in base.parameters.values():
        for number, version in enumerate(parameter.versions):
            for index, source in enumerate(version.sources):
                yield from missing(
                    "parameters",
                    parameter.id,
                    f"versions[{number}].sources[{index}]",
                    "source",
                    source,
                    base.sources,
                )
