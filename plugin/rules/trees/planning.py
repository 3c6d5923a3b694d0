"""Plan a request's stage tree from the request and the rules: pure data in, pure data out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from plugin.process.calendar import WorkCalendar
from plugin.process.config import Deliverable, Rules, Stage, format_duration
from plugin.process.items import EPIC_REF, person_of
from plugin.process.owners import Owner, OwnerUnresolvedError, owner_label, resolve_owner
from plugin.process.wording import department_name, join_names, mention, plain
from plugin.rules.trees.wording import say
from plugin.spine.errors import RequestProblemError

Level = Literal["epic", "stage", "deliverable"]
SUMMARY_LIMIT = 255  # Jira refuses longer summaries.


@dataclass(frozen=True)
class RequestSnapshot:
    """What planning needs of a collaboration request, read from Jira (or a webhook body for `plan`)."""

    key: str
    project: str
    issue_type: str
    topic: str
    created: date | None
    requesting_department: str | None = None
    departments: tuple[str, ...] = ()
    has_departments: bool = True
    start: date | None = None
    due: date | None = None
    reporter: str | None = None
    project_manager: str | None = None
    date_problems: tuple[str, ...] = ()
    decision_makers: tuple[str, ...] = ()  # the request's field, else the rules' decision_makers


@dataclass(frozen=True)
class PlannedItem:
    """One issue to create; `ref` is its stable identity, `parent` a ref or the request key."""

    ref: str
    parent: str
    level: Level
    issue_type: str
    summary: str
    description: str
    owner: Owner
    due: date
    stage: int | None = None
    department: str | None = None
    starts: date | None = None  # when the item's stage starts: nothing in it is due before
    supporting: tuple[str, ...] = ()  # 配合部门: recorded apart from the one owner


@dataclass(frozen=True)
class TreePlan:
    """The whole tree for one request, parents before children."""

    request: str
    project: str
    items: tuple[PlannedItem, ...]
    epic: Literal["self", "create"] = "self"
    departments: tuple[str, ...] = field(default=())
    requesting_department: str | None = None  # 需求部门: whose work the requester's items are

    def level(self, level: Level) -> list[PlannedItem]:
        """Return the items of one level, in plan order."""
        return [item for item in self.items if item.level == level]

    def by_ref(self) -> dict[str, PlannedItem]:
        """Index the items by ref."""
        return {item.ref: item for item in self.items}


def _as_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    text = str(value)
    return date.fromisoformat(text[:10])


def _option_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        raw = value.get("value") or value.get("name")
        return str(raw) if raw is not None else None
    return str(value)


def _user_id(value: Any) -> str | None:
    """A person from a user object as Jira sends it, or a bare id (a hand-written event body)."""
    if isinstance(value, Mapping):
        return person_of(value)
    return str(value) if value else None


def request_fields(rules: Rules) -> list[str]:
    """Name the fields to read from Jira for planning, so the one GET asks for nothing more."""
    wanted = rules.jira.request.fields
    names = [
        "summary",
        "issuetype",
        "project",
        "created",
        "reporter",
        wanted.requesting_department,
        wanted.departments,
        wanted.due,
    ]
    names += [
        name for name in (wanted.start, wanted.project_manager, wanted.decision_makers) if name
    ]
    return list(dict.fromkeys(names))


def read_request(
    issue: Mapping[str, Any], rules: Rules, *, today: date | None = None
) -> RequestSnapshot:
    """Turn a Jira issue (REST or webhook shape) into a snapshot; date problems are kept, not raised.

    `today` stands in for the created date when the issue has none (a hand-written event body).
    """
    fields: Mapping[str, Any] = issue.get("fields") or {}
    wanted = rules.jira.request.fields
    problems: list[str] = []

    def read_date(field_id: str | None) -> date | None:
        if not field_id:
            return None
        try:
            return _as_date(fields.get(field_id))
        except ValueError:
            problems.append(say(rules, "problem.bad_date", field=field_id, value=fields[field_id]))
            return None

    created = read_date("created") or today
    raw_departments = fields.get(wanted.departments)
    if isinstance(raw_departments, list):
        departments = tuple(
            value for value in (_option_value(item) for item in raw_departments) if value
        )
    elif raw_departments is None:
        departments = ()
    else:
        single = _option_value(raw_departments)
        departments = (single,) if single else ()
    project = fields.get("project") or {}
    issue_type = fields.get("issuetype") or {}
    pm = _user_id(fields.get(wanted.project_manager)) if wanted.project_manager else None
    named = fields.get(wanted.decision_makers) if wanted.decision_makers else None
    people = [_user_id(value) for value in named] if isinstance(named, list) else []
    deciders = tuple(dict.fromkeys(person for person in people if person))  # each once, in order
    return RequestSnapshot(
        key=str(issue.get("key") or ""),
        project=str(project.get("key") or "") if isinstance(project, Mapping) else "",
        issue_type=str(issue_type.get("name") or "") if isinstance(issue_type, Mapping) else "",
        topic=str(fields.get("summary") or "").strip(),
        created=created,
        requesting_department=_option_value(fields.get(wanted.requesting_department)),
        departments=departments,
        has_departments=bool(departments),
        start=read_date(wanted.start),
        due=read_date(wanted.due),
        reporter=_user_id(fields.get("reporter")),
        project_manager=pm or rules.project_manager,
        date_problems=tuple(problems),
        decision_makers=deciders or tuple(rules.decision_makers),
    )


def is_request(snapshot: RequestSnapshot, rules: Rules) -> bool:
    """Say whether an issue is a collaboration request under enforcement."""
    return (
        snapshot.project in rules.jira.projects
        and snapshot.issue_type == rules.jira.request.issue_type
    )


def participating_departments(snapshot: RequestSnapshot) -> tuple[str, ...]:
    """Requesting department first, then the collaborating ones, each once."""
    ordered = [snapshot.requesting_department, *snapshot.departments]
    return tuple(dict.fromkeys(name for name in ordered if name))


@dataclass(frozen=True)
class _StageSpan:
    """Where one stage sits in time: its number, start, due date and the date it counts from."""

    number: int
    stage: Stage
    origin: date  # the request's start, or the previous stage's due date
    starts: date
    due: date


class _Planner:
    """Plans one request's items level by level, collecting problems while resolving owners so
    one comment can name all of them."""

    def __init__(
        self, snapshot: RequestSnapshot, rules: Rules, calendar: WorkCalendar, cloud: bool
    ) -> None:
        self.snapshot = snapshot
        self.rules = rules
        self.calendar = calendar
        self.cloud = cloud
        self.problems: list[str] = list(snapshot.date_problems)
        self.departments = participating_departments(snapshot)
        self.calendar_line = (
            say(rules, "line.calendar", calendar=rules.calendar.holidays)
            if rules.calendar.holidays
            else say(rules, "line.calendar_plain")
        )
        self.warn_line = say(
            rules, "line.warn", warn=format_duration(rules.ownership.warn_before_due)
        )

    def owner(self, spec: str, department: str | None, stage_number: int) -> Owner | None:
        """Resolve an owner word, keeping a problem (not raising) so all are reported at once."""
        snapshot = self.snapshot
        try:
            return resolve_owner(
                self.rules,
                spec,
                department=department,
                requesting_department=snapshot.requesting_department,
                requester=snapshot.reporter,
                project_manager=snapshot.project_manager,
                stage_number=stage_number,
                decision_makers=snapshot.decision_makers,
            )
        except OwnerUnresolvedError as error:
            self.problems.append(error.problem)
            return None

    def spans(self, start: date) -> list[_StageSpan]:
        """Each stage's dates: counted in working days from the start, then from the previous
        stage's due date; a stage starts the working day after the previous one is due."""
        found: list[_StageSpan] = []
        origin = start
        for number, stage in enumerate(self.rules.stages, start=1):
            starts = self.calendar.next_working_day(
                origin if number == 1 else self.calendar.add_working_days(origin, 1)
            )
            due = self.calendar.add_working_days(origin, stage.days)
            found.append(_StageSpan(number, stage, origin, starts, due))
            origin = due
        return found

    def footer(self, ref: str) -> tuple[str, str, str]:
        return (self.warn_line, self.calendar_line, f"ref={ref}")

    def stage_item(self, span: _StageSpan) -> PlannedItem | None:
        """The stage's task, owned by the stage's owner, due at the stage's end."""
        rules, snapshot, number = self.rules, self.snapshot, span.number
        owner = self.owner(span.stage.owner, None, number)
        if owner is None:
            return None
        ref = f"s{number}"
        why = say(
            rules,
            "why.stage_first" if number == 1 else "why.stage_next",
            days=span.stage.days,
            origin=span.origin.isoformat(),
        )
        name = rules.text(span.stage.name, span.stage.name_en)
        summary = say(
            rules, "stage_summary", key=snapshot.key, topic=snapshot.topic, number=number, name=name
        )
        supporting = self.supporting(span.stage.supporting, None, owner)
        return PlannedItem(
            ref=ref,
            parent=EPIC_REF if rules.jira.request.epic == "create" else snapshot.key,
            level="stage",
            issue_type=rules.jira.issue_types.stage,
            summary=_summary(summary),
            description=_stage_description(
                rules,
                snapshot,
                span.stage,
                number,
                owner,
                span.due,
                why,
                self.cloud,
                self.footer(ref),
                supporting,
            ),
            owner=owner,
            due=span.due,
            stage=number,
            starts=span.starts,
            supporting=supporting,
        )

    def deliverable_items(self, span: _StageSpan) -> list[PlannedItem]:
        """The stage's deliverables, one per department where each department owes its own."""
        rules, number = self.rules, span.number
        found: list[PlannedItem] = []
        for index, deliverable in enumerate(span.stage.deliverables, start=1):
            # Counted like the stage's own days (from the previous due date, or the start), so a
            # deliverable with the stage's `days` is due with the stage; never before the stage
            # starts, never after it ends.
            offset = deliverable.days if deliverable.days is not None else span.stage.days
            due = self.calendar.add_working_days(span.origin, offset)
            due = min(max(due, span.starts), span.due)
            if deliverable.each_decision_maker:
                found += self.decision_items(span, index, deliverable, due, offset)
                continue
            targets: Sequence[str | None] = (
                self.departments if deliverable.each_department else (None,)
            )
            for department in targets:
                owner = self.owner(deliverable.owner, department, number)
                if owner is None:
                    continue
                ref = f"s{number}.d{index}" + (f".{department}" if department else "")
                summary = _deliverable_summary(rules, deliverable, department)
                found.append(
                    self.deliverable_item(
                        span, deliverable, ref, summary, owner, due, offset, department
                    )
                )
        return found

    def decision_items(
        self, span: _StageSpan, index: int, deliverable: Deliverable, due: date, offset: int
    ) -> list[PlannedItem]:
        """A joint decision: one item per decision maker (the ref names the person, so a changed
        list adds the newcomer's item and leaves the others'); none without decision makers."""
        rules, number = self.rules, span.number
        deciders = self.snapshot.decision_makers
        name = rules.text(deliverable.name, deliverable.name_en)
        return [
            self.deliverable_item(
                span,
                deliverable,
                f"s{number}.d{index}.{person}",
                say(
                    rules, "deliverable_decider_summary", name=name, n=position, total=len(deciders)
                ),
                Owner(person, "decision_maker"),
                due,
                offset,
            )
            for position, person in enumerate(deciders, start=1)
        ]

    def deliverable_item(
        self,
        span: _StageSpan,
        deliverable: Deliverable,
        ref: str,
        summary: str,
        owner: Owner,
        due: date,
        offset: int,
        department: str | None = None,
    ) -> PlannedItem:
        """One sub-task of a stage: a deliverable, or one department's or one person's copy."""
        rules, number = self.rules, span.number
        supporting = self.supporting(deliverable.supporting, department, owner)
        return PlannedItem(
            ref=ref,
            parent=f"s{number}",
            level="deliverable",
            issue_type=rules.jira.issue_types.deliverable,
            summary=_summary(summary),
            description=_deliverable_description(
                rules,
                self.snapshot,
                span.stage,
                number,
                deliverable,
                owner,
                due,
                offset,
                self.cloud,
                self.footer(ref),
                supporting,
            ),
            owner=owner,
            due=due,
            stage=number,
            department=department,
            starts=span.starts,
            supporting=supporting,
        )

    def supporting(
        self, spec: str | Sequence[str], department: str | None, owner: Owner
    ) -> tuple[str, ...]:
        """The departments supporting an item: the request's others (`collaborating`), or those
        listed that take part; never the item's own department, the one that owns it."""
        own = department or owner.department or self.snapshot.requesting_department
        named = self.departments if spec == "collaborating" else spec
        return tuple(name for name in named if name in self.departments and name != own)

    def epic_item(self, first_stage: PlannedItem | None, last_due: date) -> PlannedItem:
        """The epic crossdept creates for the request (`epic: create`), owned like stage 1."""
        rules, snapshot = self.rules, self.snapshot
        owner = first_stage.owner if first_stage else Owner(snapshot.reporter or "", "requester")
        due = snapshot.due or last_due
        topic = plain(snapshot.topic)
        lines = [
            "h3. " + say(rules, "heading.epic", topic=topic),
            say(rules, "line.request", key=snapshot.key, topic=topic),
            *_owner_and_due(rules, owner, due, say(rules, "why.epic"), self.cloud),
            "",
            say(rules, "line.marker", ref=f"ref={EPIC_REF}"),
        ]
        return PlannedItem(
            ref=EPIC_REF,
            parent=snapshot.key,
            level="epic",
            issue_type=rules.jira.request.epic_issue_type,
            summary=_summary(say(rules, "epic_summary", key=snapshot.key, topic=snapshot.topic)),
            description=_description(lines),
            owner=owner,
            due=due,
        )


def _owner_and_due(rules: Rules, owner: Owner, due: date, why: str, cloud: bool) -> list[str]:
    """An item's description lines naming its one owner and its due date, with why that date."""
    return [
        say(
            rules,
            "line.owner",
            mention=mention(owner.account, cloud=cloud),
            role=owner_label(rules, owner),
        ),
        say(rules, "line.due", due=due.isoformat()) + " — " + why,
    ]


def _summary(text: str) -> str:
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "…"


def _description(lines: Sequence[str]) -> str:
    return "\n".join(line for line in lines if line is not None)


def check_request(snapshot: RequestSnapshot, rules: Rules) -> list[str]:
    """List what is wrong with the request's own fields, in the configured language."""
    wanted = rules.jira.request.fields
    problems: list[str] = []
    if not snapshot.requesting_department:
        problems.append(say(rules, "problem.no_requesting", field=wanted.requesting_department))
    if not snapshot.has_departments:
        problems.append(say(rules, "problem.no_departments", field=wanted.departments))
    known = join_names(rules, list(rules.departments))
    for name in participating_departments(snapshot):
        if name not in rules.departments:
            problems.append(say(rules, "problem.unknown_department", department=name, known=known))
    return problems


def plan_tree(
    snapshot: RequestSnapshot, rules: Rules, calendar: WorkCalendar, *, cloud: bool = True
) -> TreePlan:
    """Plan every issue of the request's tree, or raise RequestProblemError naming what to fix."""
    problems = check_request(snapshot, rules)
    if snapshot.date_problems or problems:
        raise RequestProblemError([*snapshot.date_problems, *problems])
    start = snapshot.start or snapshot.created
    if start is None:
        raise RequestProblemError([say(rules, "problem.no_start")])
    planner = _Planner(snapshot, rules, calendar, cloud)
    spans = planner.spans(start)
    stages: list[PlannedItem] = []
    deliverables: list[PlannedItem] = []
    for span in spans:  # stage by stage, so problems are named in the order of the file
        if (item := planner.stage_item(span)) is not None:
            stages.append(item)
        deliverables += planner.deliverable_items(span)
    if planner.problems:
        raise RequestProblemError(list(dict.fromkeys(planner.problems)))
    last_due = spans[-1].due
    if snapshot.due is not None and last_due > snapshot.due:
        raise RequestProblemError(
            [
                say(
                    rules,
                    "problem.too_late",
                    needed=last_due.isoformat(),
                    start=start.isoformat(),
                    due=snapshot.due.isoformat(),
                )
            ]
        )
    epic = [planner.epic_item(stages[0] if stages else None, last_due)]
    return TreePlan(
        request=snapshot.key,
        project=snapshot.project,
        items=tuple((epic if rules.jira.request.epic == "create" else []) + stages + deliverables),
        epic=rules.jira.request.epic,
        departments=planner.departments,
        requesting_department=snapshot.requesting_department,
    )


def _deliverable_summary(rules: Rules, deliverable: Deliverable, department: str | None) -> str:
    name = rules.text(deliverable.name, deliverable.name_en)
    if department is None:
        return say(rules, "deliverable_summary", name=name)
    return say(
        rules,
        "deliverable_department_summary",
        name=name,
        department=department_name(rules, department),
    )


def _stage_description(
    rules: Rules,
    snapshot: RequestSnapshot,
    stage: Stage,
    number: int,
    owner: Owner,
    due: date,
    why: str,
    cloud: bool,
    footer: tuple[str, str, str],
    supporting: Sequence[str] = (),
) -> str:
    name = rules.text(stage.name, stage.name_en)
    lines = [
        "h3. " + say(rules, "heading.stage", number=number, name=name),
        say(rules, "line.request", key=snapshot.key, topic=plain(snapshot.topic)),
        *_owner_and_due(rules, owner, due, why, cloud),
    ]
    text = rules.text(stage.description or "", stage.description_en)
    if text:
        lines.append(text)
    if stage.meeting is not None:
        lines.append(
            say(
                rules,
                "line.meeting",
                kind=rules.text(stage.meeting.kind, stage.meeting.kind_en),
                low=stage.meeting.min_minutes,
                high=stage.meeting.max_minutes,
            )
        )
    lines += _supporting_lines(rules, supporting)
    warn, calendar_line, ref = footer
    lines += [warn, "", calendar_line, say(rules, "line.marker", ref=ref)]
    return _description(lines)


def _deliverable_description(
    rules: Rules,
    snapshot: RequestSnapshot,
    stage: Stage,
    number: int,
    deliverable: Deliverable,
    owner: Owner,
    due: date,
    offset: int,
    cloud: bool,
    footer: tuple[str, str, str],
    supporting: Sequence[str] = (),
) -> str:
    name = rules.text(deliverable.name, deliverable.name_en)
    lines = [
        "h3. " + say(rules, "heading.deliverable", name=name),
        say(rules, "line.request", key=snapshot.key, topic=plain(snapshot.topic)),
        say(rules, "line.stage", number=number, name=rules.text(stage.name, stage.name_en)),
        *_owner_and_due(rules, owner, due, say(rules, "why.deliverable", days=offset), cloud),
    ]
    text = rules.text(deliverable.description or "", deliverable.description_en)
    if text:
        lines.append(text)
    if deliverable.each_decision_maker:
        lines.append(say(rules, "line.joint_decision"))
    elif deliverable.each_department:
        if deliverable.owner == "head":
            lines.append(say(rules, "line.signoff"))
        else:
            role = say(rules, f"role.{owner.role}", department="").strip()
            lines.append(say(rules, "line.fanout", role=role))
    lines += _supporting_lines(rules, supporting)
    warn, calendar_line, ref = footer
    lines += [warn, "", calendar_line, say(rules, "line.marker", ref=ref)]
    return _description(lines)


def _supporting_lines(rules: Rules, supporting: Sequence[str]) -> list[str]:
    if not supporting:
        return []
    names = join_names(rules, [department_name(rules, name) for name in supporting])
    return [say(rules, "line.supporting", departments=names)]


def tree_to_json(plan: TreePlan) -> dict[str, Any]:
    """The machine form `crossdept plan --json` prints."""
    return {
        "request": plan.request,
        "issues": [
            {
                "ref": item.ref,
                "parent": item.parent,
                "issuetype": item.issue_type,
                "summary": item.summary,
                "assignee": item.owner.account,
                "duedate": item.due.isoformat(),
                "stage": item.stage,
                "department": item.department,
                "supporting": list(item.supporting),
            }
            for item in plan.items
        ],
    }


def render_tree(plan: TreePlan, rules: Rules, keys: Mapping[str, str] | None = None) -> str:
    """The human form: an indented tree with keys or refs, owners and due dates."""
    keys = keys or {}
    children: dict[str, list[PlannedItem]] = {}
    for item in plan.items:
        children.setdefault(item.parent, []).append(item)
    lines = [plan.request]

    def walk(parent: str, depth: int) -> None:
        for item in children.get(parent, []):
            label = keys.get(item.ref, item.ref)
            lines.append(
                f"{'  ' * depth}{label}  {item.summary}  "
                f"[{item.issue_type}; {owner_label(rules, item.owner)}; {item.due.isoformat()}]"
            )
            walk(item.ref, depth + 1)

    walk(plan.request, 1)
    return "\n".join(lines)


def rules_digest(rules: Rules) -> str:
    """A short hash of the rules, stored with each tree so one can tell which rules built it."""
    text = json.dumps(rules.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
