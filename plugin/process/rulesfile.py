"""Read the admin's rules file and report every mistake at once, as FILE:LINE: path.to.field: message."""

from __future__ import annotations

import copy
import json
import os
import types
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from plugin.process.config import (
    OWNER_ROLES,
    EscalationStep,
    FieldPath,
    Rules,
    describe_value,
    format_duration,
    format_work_hours,
    suggest,
)
from plugin.spine.errors import ConfigError

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_TITLE = "crossdept rules file"


@dataclass(frozen=True)
class Problem:
    """One mistake in the rules file, where it is and what is wrong."""

    line: int
    path: FieldPath
    message: str

    def format(self, filename: str) -> str:
        """Render as FILE:LINE: path.to.field: message, the shape editors and CI understand."""
        where = format_path(self.path)
        return f"{filename}:{self.line}: {where + ': ' if where else ''}{self.message}"


def format_path(path: FieldPath) -> str:
    """Write a path as an admin reads it: stages[1].deliverables[0].owner."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


class LineMap:
    """The line of every key and item in the file, so any field path can be pointed at."""

    def __init__(self) -> None:
        self._key_lines: dict[FieldPath, int] = {}
        self._value_lines: dict[FieldPath, int] = {}

    def add(self, path: FieldPath, key_line: int, value_line: int) -> None:
        """Record where a key (or sequence item) and its value start, 1-based."""
        self._key_lines[path] = key_line
        self._value_lines[path] = value_line

    def key_line(self, path: FieldPath) -> int:
        """Line of the key at `path`, or of its nearest ancestor that is in the file."""
        for prefix in _prefixes(path):
            if prefix in self._key_lines:
                return self._key_lines[prefix]
        return 1

    def value_line(self, path: FieldPath) -> int:
        """Line of the value at `path`, or of its nearest ancestor that is in the file."""
        for prefix in _prefixes(path):
            if prefix in self._value_lines:
                return self._value_lines[prefix]
        return 1

    def __contains__(self, path: FieldPath) -> bool:
        return path in self._key_lines


def _prefixes(path: FieldPath) -> Iterator[FieldPath]:
    for end in range(len(path), 0, -1):
        yield path[:end]


def load_rules(path: str | os.PathLike[str], model: type[Rules]) -> Rules:
    """Read and validate the rules file at `path` against `model` (the shared part and every
    rule's section, from plugin.composition), raising ConfigError listing every problem."""
    filename = os.fspath(path)
    try:
        with open(filename, encoding="utf-8") as file:
            text = file.read()
    except OSError as error:
        raise ConfigError([f"{filename}: cannot read the rules file: {error.strerror}"]) from error
    except UnicodeDecodeError as error:
        raise ConfigError([f"{filename}: the rules file is not UTF-8 text: {error}"]) from error
    return parse_rules(text, filename, model)


def parse_rules(text: str, filename: str, model: type[Rules]) -> Rules:
    """Validate rules from YAML text; `filename` is only used in the messages."""
    data, lines = read_yaml(text, filename)
    if data is None:
        raise ConfigError([f"{filename}:1: the rules file is empty"])
    if not isinstance(data, dict):
        raise ConfigError(
            [f"{filename}:1: expected settings (key: value lines), not {describe_value(data)}"]
        )
    try:
        rules = model.model_validate(data)
    except ValidationError as error:
        problems = [_problem_from_pydantic(detail, lines, model) for detail in error.errors()]
        problems += _references_around(data, error, problems, lines, model)
    else:
        problems = check_references(rules, lines)
    if problems:
        raise ConfigError(_format_all(problems, filename))
    return rules


def read_yaml(text: str, filename: str) -> tuple[Any, LineMap]:
    """Parse YAML into plain Python values plus the line of every key, or raise ConfigError."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _LenientDateConstructor
    try:
        document = yaml.load(text)
    except MarkedYAMLError as error:
        raise ConfigError([_syntax_problem(error, filename)]) from error
    except YAMLError as error:
        raise ConfigError([f"{filename}:1: YAML syntax error: {error}"]) from error
    lines = LineMap()
    return _plain(document, (), lines), lines


class _LenientDateConstructor(RoundTripConstructor):
    """Keep an impossible date such as 2025-13-01 as text, so validation reports it with its path."""

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        try:
            return super().construct_yaml_timestamp(node, values)
        except ValueError:
            return str(node.value)


_LenientDateConstructor.add_constructor(
    "tag:yaml.org,2002:timestamp", _LenientDateConstructor.construct_yaml_timestamp
)


def _syntax_problem(error: MarkedYAMLError, filename: str) -> str:
    """Say where the YAML broke and, when it helps, where the broken construct began."""
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else 1
    message = error.problem or error.context or "invalid YAML"
    if error.context and error.problem:
        began = error.context_mark.line + 1 if error.context_mark is not None else line
        message += f" ({error.context}" + (
            f" that began on line {began})" if began != line else ")"
        )
    return f"{filename}:{line}: YAML syntax error: {message}"


def _plain(node: Any, path: FieldPath, lines: LineMap) -> Any:
    """Turn ruamel's round-trip nodes into plain values while recording their lines."""
    if isinstance(node, CommentedMap):
        mapping: dict[Any, Any] = {}
        for key in node:
            child = node[key]
            key_line, value_line = _map_lines(node, key)
            if isinstance(child, CommentedMap | CommentedSeq):
                value_line = key_line  # a nested block: point at its key
            plain_key = _scalar(key)
            lines.add((*path, plain_key), key_line, value_line)
            mapping[plain_key] = _plain(child, (*path, plain_key), lines)
        return mapping
    if isinstance(node, CommentedSeq):
        items: list[Any] = []
        for index, child in enumerate(node):
            line = _item_line(node, index)
            lines.add((*path, index), line, line)
            items.append(_plain(child, (*path, index), lines))
        return items
    return _scalar(node)


def _map_lines(node: CommentedMap, key: Any) -> tuple[int, int]:
    try:
        key_line = int(node.lc.key(key)[0]) + 1
        value_line = int(node.lc.value(key)[0]) + 1
    except (KeyError, TypeError):  # a key merged in with <<: has no position of its own
        key_line = value_line = int(node.lc.line) + 1
    return key_line, value_line


def _item_line(node: CommentedSeq, index: int) -> int:
    try:
        return int(node.lc.item(index)[0]) + 1
    except (KeyError, TypeError):
        return int(node.lc.line) + 1


def _scalar(value: Any) -> Any:
    """Drop ruamel's scalar subclasses: pydantic and messages should see plain values."""
    if isinstance(value, ScalarBoolean):
        return bool(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, datetime):
        return datetime(*value.timetuple()[:6], value.microsecond, tzinfo=value.tzinfo)
    return value


# ---------------------------------------------------------------- pydantic errors -> problems

_TYPE_WORDS = {
    "string_type": "text",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
    "list_type": "a list",
    "tuple_type": "a list",
    "date_type": "a date such as 2025-10-01",
    "date_parsing": "a date such as 2025-10-01",
    "date_from_datetime_parsing": "a date such as 2025-10-01",
    "date_from_datetime_inexact": "a date such as 2025-10-01 (without a time)",
}


def _problem_from_pydantic(detail: ErrorDetails, lines: LineMap, model: type[Rules]) -> Problem:
    """Point a pydantic error at its YAML line: the key's for missing/unknown keys, else the value's."""
    path: FieldPath = tuple(detail["loc"])
    kind = detail["type"]
    if kind == "missing":
        return Problem(lines.key_line(path[:-1]), path, "required key is missing")
    if kind == "extra_forbidden":
        return Problem(lines.key_line(path), path, _unknown_key_message(path, model))
    if path and path[-1] == "[key]":  # pydantic's marker for a bad mapping key
        key = path[-2]
        shown = (*path[:-2], str(key))
        return Problem(lines.key_line(path[:-1]), shown, f'keys must be text; quote it: "{key}"')
    return Problem(lines.value_line(path), path, _value_message(detail, path, model))


def _unknown_key_message(path: FieldPath, rules_model: type[Rules]) -> str:
    model = _model_at(path[:-1], rules_model)
    key = str(path[-1])
    if model is None:
        return "unknown key"
    known = list(model.model_fields)
    hint = suggest(key, known)
    if hint:
        return f"unknown key{hint}"
    return f"unknown key; expected one of: {', '.join(known)}"


def _value_message(detail: ErrorDetails, path: FieldPath, model: type[Rules]) -> str:
    kind = detail["type"]
    value = detail.get("input")
    ctx = detail.get("ctx") or {}
    shown = describe_value(value)
    name = path[-1] if path and isinstance(path[-1], str) else ""
    if kind in ("int_type", "int_parsing", "int_from_float"):
        if name == "days":
            return f"expected a whole number of working days, not {shown}"
        if name.endswith("_days"):
            return f"expected a whole number of days, not {shown}"
        if name.endswith("_minutes"):
            return f"expected a whole number of minutes, not {shown}"
        return f"expected a whole number, not {shown}"
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}, not {shown}"
    if kind == "literal_error":
        choices = _literal_choices(path, model)
        listed = ", ".join(choices) if choices else str(ctx.get("expected", ""))
        return f"expected one of {listed}; not {shown}{suggest(str(value), choices)}"
    if kind in ("too_short", "string_too_short"):
        return "must not be empty"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}, not {shown}"
    if kind == "value_error":
        return str(ctx.get("error", detail["msg"]))
    message = detail["msg"]
    return message[:1].lower() + message[1:]


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated[...] and `| None` to the type that holds the data."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _annotation_at(path: FieldPath, model: type[Rules]) -> Any:
    annotation: Any = model
    for part in path:
        annotation = _unwrap(annotation)
        origin = get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            annotation = field.annotation
        elif origin is list:
            annotation = get_args(annotation)[0]
        elif origin is dict:
            annotation = get_args(annotation)[1]
        else:
            return None
    return _unwrap(annotation)


def _model_at(path: FieldPath, model: type[Rules]) -> type[BaseModel] | None:
    annotation = _annotation_at(path, model)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _literal_choices(path: FieldPath, model: type[Rules]) -> list[str]:
    annotation = _annotation_at(path, model)
    return [str(choice) for choice in get_args(annotation)] if annotation is not None else []


# ------------------------------------------------------ every mistake, not just the first kind

_PRUNE_ROUNDS = 25


class _Pruned:
    """A copy of the file's data with the parts pydantic refused taken out, and the way back
    from its places to the file's: list items taken out shift the indexes of those after them."""

    def __init__(self, data: Any) -> None:
        self.data = copy.deepcopy(data)
        self.alive: dict[FieldPath, list[int]] = {}  # a list's original indexes, in order now
        self.departments: set[str] = set()  # departments taken out: their names are not unknown

    def original(self, path: FieldPath) -> FieldPath:
        """The file's place of a place in the pruned copy."""
        out: list[str | int] = []
        for part in path:
            if isinstance(part, int):
                alive = self.alive.get(tuple(out))
                part = alive[part] if alive is not None and part < len(alive) else part
            out.append(part)
        return tuple(out)

    def take_out(self, loc: FieldPath) -> FieldPath | None:
        """Remove what `loc` points at, or the deepest part of it in the data (the container of
        a missing key); return the place taken out, None when the whole file would go."""
        trail: list[tuple[Any, str | int]] = []
        node = self.data
        for part in loc:
            found = (isinstance(node, dict) and part in node) or (
                isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
            )
            if not found:
                break
            trail.append((node, part))
            node = node[part]
        # What was found last goes: the refused value, or (a required key is missing, so the
        # walk stopped above it) the container that lacks it.
        if not trail:
            return None
        parent, part = trail[-1]
        where = self.original(tuple(p for _n, p in trail[:-1]))
        if isinstance(parent, list) and isinstance(part, int):
            alive = self.alive.setdefault(where, list(range(len(parent))))
            del alive[part]
        elif where == ("departments",):
            self.departments.add(str(part))
        del parent[part]
        return tuple(p for _n, p in trail)


class _OriginalLines(LineMap):
    """The file's lines, asked for with places of the pruned copy."""

    def __init__(self, lines: LineMap, pruned: _Pruned) -> None:
        super().__init__()
        self.lines, self.pruned = lines, pruned

    def key_line(self, path: FieldPath) -> int:
        return self.lines.key_line(self.pruned.original(path))

    def value_line(self, path: FieldPath) -> int:
        return self.lines.value_line(self.pruned.original(path))

    def __contains__(self, path: FieldPath) -> bool:
        return self.pruned.original(path) in self.lines


def _sort_key(loc: Any) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in loc)


def _references_around(
    data: Any, error: ValidationError, found: list[Problem], lines: LineMap, model: type[Rules]
) -> list[Problem]:
    """The cross-reference mistakes of the rest of a file that has field mistakes too: check
    the file with the refused parts taken out, so one run reports every mistake. What only the
    removal caused (a stage naming a department that was taken out) is not reported."""
    pruned = _Pruned(data)
    details = error.errors()
    for _round in range(_PRUNE_ROUNDS):
        # Later list items first, so that taking one out does not move the next one's place;
        # nothing inside a part already taken out this round (its place now holds another).
        gone: list[FieldPath] = []
        for detail in sorted(details, key=lambda d: _sort_key(d["loc"]), reverse=True):
            loc = tuple(detail["loc"])
            if any(loc[: len(place)] == place for place in gone):
                continue
            place = pruned.take_out(loc)
            if place is None:
                return []
            gone.append(place)
        try:
            rules = model.model_validate(pruned.data)
        except ValidationError as again:
            details = again.errors()
            continue
        break
    else:
        return []
    said = {problem.path for problem in found}
    problems = []
    for problem in check_references(rules, _OriginalLines(lines, pruned)):
        path = pruned.original(problem.path)
        if path in said or any(f'"{name}"' in problem.message for name in pruned.departments):
            continue
        problems.append(Problem(problem.line, path, problem.message))
    return problems


# ------------------------------------------------------------------- cross-reference checks


def check_references(rules: Rules, lines: LineMap) -> list[Problem]:
    """Check what one field cannot check alone: owners, due dates, names, calendar, escalation."""
    problems: list[Problem] = []
    problems += _check_stages(rules, lines)
    problems += _check_calendar(rules, lines)
    problems += _check_escalation(rules, lines)
    problems += _check_notify(rules, lines)
    problems += _check_after_done(rules, lines)
    problems += _check_feedback(rules, lines)
    problems += _check_page_groups(rules, lines)
    for section in type(rules).SECTIONS:
        if section.check is not None:
            problems += [
                Problem(lines.value_line(path), path, message)
                for path, message in section.check(rules)
            ]
    return problems


def _check_page_groups(rules: Rules, lines: LineMap) -> list[Problem]:
    """Each Confluence group is given to a department the file has."""
    groups = rules.confluence.groups if rules.confluence else {}
    departments = list(rules.departments)
    return [
        Problem(
            lines.value_line(("confluence", "groups", key)),
            ("confluence", "groups", key),
            f'unknown department "{key}"; known: {", ".join(departments)}'
            + suggest(key, departments),
        )
        for key in groups
        if key not in rules.departments
    ]


def _check_feedback(rules: Rules, lines: LineMap) -> list[Problem]:
    """Each feedback deadline names stages the file has."""
    count = len(rules.stages)
    return [
        Problem(
            lines.value_line(("ownership", "feedback", index, "stages", position)),
            ("ownership", "feedback", index, "stages", position),
            f"there is no stage {number}: the file has {count} stage" + ("s" if count != 1 else ""),
        )
        for index, clock in enumerate(rules.ownership.feedback)
        for position, number in enumerate(clock.stages)
        if number > count
    ]


def _check_after_done(rules: Rules, lines: LineMap) -> list[Problem]:
    """Each event deadline names stages that exist, a later one counted from an earlier one."""
    problems = []
    count = len(rules.stages)
    for index, clock in enumerate(rules.ownership.after_done):
        here: FieldPath = ("ownership", "after_done", index)
        for name in ("stage_done", "redates"):
            number = getattr(clock, name)
            if number > count:
                problems.append(
                    Problem(
                        lines.value_line((*here, name)),
                        (*here, name),
                        f"there is no stage {number}: the file has {count} stage"
                        + ("s" if count != 1 else ""),
                    )
                )
        if clock.redates <= clock.stage_done <= count:
            problems.append(
                Problem(
                    lines.value_line((*here, "redates")),
                    (*here, "redates"),
                    f"stage {clock.redates} is not after stage {clock.stage_done}: a deadline "
                    "counted from a stage's completion is a later stage's",
                )
            )
    return problems


def _has_project_manager(rules: Rules) -> bool:
    return bool(rules.project_manager or rules.jira.request.fields.project_manager)


_NO_PM = (
    '"pm" needs a project manager: set project_manager at the top of the file '
    "or jira.request.fields.project_manager"
)


def _check_owner(
    rules: Rules, owner: str, each_department: bool, path: FieldPath, lines: LineMap
) -> list[Problem]:
    line = lines.value_line(path)
    departments = list(rules.departments)
    if owner not in OWNER_ROLES and owner not in rules.departments:
        hint = suggest(owner, [*OWNER_ROLES, *departments])
        return [
            Problem(
                line, path, f'unknown department "{owner}"; known: {", ".join(departments)}{hint}'
            )
        ]
    if owner == "pm" and not _has_project_manager(rules):
        return [Problem(line, path, f"owner {_NO_PM}")]
    if each_department and owner in rules.departments:
        return [
            Problem(
                line,
                path,
                f"with each_department every copy would belong to {owner}; use head or contact "
                "so each department's copy has its own owner",
            )
        ]
    return []


def _check_stages(rules: Rules, lines: LineMap) -> list[Problem]:
    problems: list[Problem] = []
    stage_names: dict[str, int] = {}
    for index, stage in enumerate(rules.stages):
        here: FieldPath = ("stages", index)
        if stage.name in stage_names:
            problems.append(
                Problem(
                    lines.value_line((*here, "name")),
                    (*here, "name"),
                    f'"{stage.name}" is already the name of stages[{stage_names[stage.name]}]; '
                    "stage names must be unique",
                )
            )
        else:
            stage_names[stage.name] = index
        problems += _check_owner(rules, stage.owner, False, (*here, "owner"), lines)
        deliverable_names: dict[str, int] = {}
        for number, deliverable in enumerate(stage.deliverables):
            there: FieldPath = (*here, "deliverables", number)
            if deliverable.name in deliverable_names:
                first = deliverable_names[deliverable.name]
                problems.append(
                    Problem(
                        lines.value_line((*there, "name")),
                        (*there, "name"),
                        f'"{deliverable.name}" is already the name of deliverables[{first}] '
                        "of this stage; deliverable names must be unique within a stage",
                    )
                )
            else:
                deliverable_names[deliverable.name] = number
            problems += _check_owner(
                rules, deliverable.owner, deliverable.each_department, (*there, "owner"), lines
            )
            if deliverable.each_decision_maker and (
                deliverable.each_department or deliverable.owner != "decision_maker"
            ):
                problems.append(
                    Problem(
                        lines.value_line((*there, "each_decision_maker")),
                        (*there, "each_decision_maker"),
                        "one item per decision maker is owned by each of them: use owner: "
                        "decision_maker, without each_department",
                    )
                )
            if deliverable.days is not None and deliverable.days > stage.days:
                problems.append(
                    Problem(
                        lines.value_line((*there, "days")),
                        (*there, "days"),
                        f"due {deliverable.days} working days into a stage that lasts "
                        f"{stage.days}; no child may be due after its parent",
                    )
                )
    return problems


def _check_calendar(rules: Rules, lines: LineMap) -> list[Problem]:
    problems: list[Problem] = []
    holidays = set(rules.calendar.extra_holidays)
    for index, day in enumerate(rules.calendar.extra_workdays):
        if day in holidays:
            path: FieldPath = ("calendar", "extra_workdays", index)
            problems.append(
                Problem(
                    lines.value_line(path),
                    path,
                    f"{day.isoformat()} is also in calendar.extra_holidays; "
                    "a day cannot be both a holiday and a working day",
                )
            )
    return problems


def _check_escalation(rules: Rules, lines: LineMap) -> list[Problem]:
    problems: list[Problem] = []
    escalation = rules.escalation
    if "waiting_status" in escalation.asks and not escalation.waiting_statuses:
        path: FieldPath = ("escalation", "asks", escalation.asks.index("waiting_status"))
        problems.append(
            Problem(
                lines.value_line(path),
                path,
                "waiting_status needs escalation.waiting_statuses: the statuses that mean "
                "waiting for the assignee",
            )
        )
    steps: tuple[tuple[str, list[EscalationStep]], ...] = (
        ("reminders", escalation.reminders),
        ("ladder", escalation.ladder),
    )
    for name, ladder in steps:
        for index, step in enumerate(ladder):
            here: FieldPath = ("escalation", name, index)
            if step.to == "pm" and not _has_project_manager(rules):
                problems.append(Problem(lines.value_line((*here, "to")), (*here, "to"), _NO_PM))
            if index and step.after <= ladder[index - 1].after:
                problems.append(
                    Problem(
                        lines.value_line((*here, "after")),
                        (*here, "after"),
                        f"{format_duration(step.after)} is not later than the step before "
                        f"({format_duration(ladder[index - 1].after)}); list the steps in "
                        "increasing order of after",
                    )
                )
    return problems


def _check_notify(rules: Rules, lines: LineMap) -> list[Problem]:
    """Every channel named elsewhere is one of notify.channels."""
    channels = list(rules.notify.channels) if rules.notify else []
    named: list[tuple[FieldPath, str]] = [
        (("departments", key, "channel"), department.channel)
        for key, department in rules.departments.items()
        if department.channel is not None
    ]
    if rules.notify and rules.notify.request_channel is not None:
        named.append((("notify", "request_channel"), rules.notify.request_channel))
    problems = []
    for path, name in named:
        if name in channels:
            continue
        known = ", ".join(channels) if channels else "none: add a notify section"
        problems.append(
            Problem(
                lines.value_line(path),
                path,
                f'no notify channel is called "{name}"; known: {known}' + suggest(name, channels),
            )
        )
    return problems


def _format_all(problems: list[Problem], filename: str) -> list[str]:
    ordered = sorted(set(problems), key=lambda p: (p.line, format_path(p.path), p.message))
    return [problem.format(filename) for problem in ordered]


# ------------------------------------------------------------------------------ JSON Schema


class _RulesJsonSchema(GenerateJsonSchema):
    """Write defaults of our own types the way the YAML spells them ("24h", "09:00-18:00")."""

    def encode_default(self, dft: Any) -> Any:
        if isinstance(dft, timedelta):
            return format_duration(dft)
        if isinstance(dft, tuple) and len(dft) == 2 and all(isinstance(t, time) for t in dft):
            return format_work_hours(dft)
        return super().encode_default(dft)


def rules_json_schema(model: type[Rules]) -> JsonSchemaValue:
    """JSON Schema of the rules file, for editors (yaml-language-server) and other checkers."""
    schema = model.model_json_schema(schema_generator=_RulesJsonSchema)
    return {"$schema": SCHEMA_DIALECT, **schema, "title": SCHEMA_TITLE}


def render_rules_json_schema(model: type[Rules]) -> str:
    """The exact text shipped as config/rules.schema.json."""
    return json.dumps(rules_json_schema(model), ensure_ascii=False, indent=2) + "\n"


def to_json_compatible(value: Any) -> Any:
    """Turn loaded YAML into what a JSON document would hold (dates become ISO strings)."""
    if isinstance(value, dict):
        return {str(key): to_json_compatible(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_json_compatible(item) for item in value]
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    return value
