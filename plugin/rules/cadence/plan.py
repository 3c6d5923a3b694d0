"""The meetings crossdept files on a cadence, planned from data alone: who organises and attends,
their summary and agenda. The periodic work (plugin.rules.cadence.cadence) files them."""

from __future__ import annotations

from dataclasses import dataclass

from plugin.process.config import Rules
from plugin.process.wording import department_name, join_names, plain, span_words
from plugin.rules.cadence.config import GoalAlignment, WeeklyMeeting
from plugin.rules.cadence.occurrences import Occurrence
from plugin.rules.cadence.wording import say
from plugin.rules.minutes import configured_meetings
from plugin.rules.trees import RequestSnapshot


@dataclass(frozen=True)
class PlannedMeeting:
    """One meeting to file: its identity (`ref`, also its mark), where, when and who."""

    ref: str
    project: str
    summary: str
    description: str
    occurrence: Occurrence
    organiser: str
    attendees: tuple[str, ...]
    link_to: str | None  # the request it belongs to; None for a goal-alignment meeting
    departments: tuple[str, ...] = ()  # a goal-alignment meeting's


def weekly_ref(request: str, occurrence: Occurrence) -> str:
    """The weekly meeting's identity: one per request and ISO week."""
    return f"weekly:{request}:{occurrence.period}"


def goal_ref(goal: GoalAlignment, occurrence: Occurrence) -> str:
    """The goal-alignment meeting's identity: one per set of departments and month."""
    return f"goal:{'+'.join(sorted(goal.departments))}:{occurrence.period}"


def _description(rules: Rules, title: str, agenda: list[str], ref: str, *extra: str) -> str:
    meetings = configured_meetings(rules)
    held, within = meetings.held_status, span_words(rules, meetings.minutes_within)
    lines = [title, *(f"# {plain(line)}" for line in agenda), ""]
    lines += [say(rules, "cadence.how", held=held, within=within), *extra]
    lines.append(say(rules, "cadence.marker", ref=ref))
    return "\n".join(lines)


def _agenda(rules: Rules, configured: list[str] | None, entry: str) -> list[str]:
    return list(configured) if configured else say(rules, entry).splitlines()


def plan_weekly(
    rules: Rules, weekly: WeeklyMeeting, request: RequestSnapshot, occurrence: Occurrence
) -> PlannedMeeting | None:
    """The request's weekly meeting: organised by its project manager (else its lead
    department's head), attended by the departments' contacts; None with neither."""
    lead = rules.departments.get(request.requesting_department or "")
    organiser = request.project_manager or (lead.head if lead else None)
    if organiser is None:
        return None
    keys = dict.fromkeys(
        key
        for key in (request.requesting_department, *request.departments)
        if key and key in rules.departments
    )
    attendees = tuple(dict.fromkeys([organiser, *(rules.departments[k].contact for k in keys)]))
    ref = weekly_ref(request.key, occurrence)
    day = f"{occurrence.start:%Y-%m-%d}"
    title = say(rules, "cadence.weekly.title", request=request.key, request_summary=request.topic)
    return PlannedMeeting(
        ref=ref,
        project=request.project,
        summary=say(rules, "cadence.weekly.summary", day=day, request_summary=request.topic)[:255],
        description=_description(
            rules, plain(title), _agenda(rules, weekly.agenda, "cadence.weekly.agenda"), ref
        ),
        occurrence=occurrence,
        organiser=organiser,
        attendees=attendees,
        link_to=request.key,
    )


def plan_goal_alignment(
    rules: Rules, goal: GoalAlignment, occurrence: Occurrence
) -> PlannedMeeting:
    """A set's goal-alignment meeting: organised by one department's head, the heads attend
    (and the project manager, when the file names one)."""
    organiser_key = goal.organiser or goal.departments[0]
    organiser = rules.departments[organiser_key].head
    heads = [rules.departments[key].head for key in goal.departments]
    pm = [rules.project_manager] if rules.project_manager else []
    names = join_names(rules, [department_name(rules, key) for key in goal.departments])
    ref = goal_ref(goal, occurrence)
    title = say(rules, "cadence.goal.title", departments=names, month=occurrence.period)
    return PlannedMeeting(
        ref=ref,
        project=rules.jira.projects[0],
        summary=say(rules, "cadence.goal.summary", month=occurrence.period, departments=names)[
            :255
        ],
        description=_description(
            rules,
            title,
            _agenda(rules, goal.agenda, "cadence.goal.agenda"),
            ref,
            say(rules, "cadence.goal.untracked"),
        ),
        occurrence=occurrence,
        organiser=organiser,
        attendees=tuple(dict.fromkeys([organiser, *heads, *pm])),
        link_to=None,
        departments=tuple(goal.departments),
    )
