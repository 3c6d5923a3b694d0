"""The minutes page in Confluence storage format, purely.

Storage format is XHTML with Confluence's own elements: actions become native tasks
(`ac:task-list`) whose body holds the owner's mention and a `<time>` date lozenge, so Confluence
shows them in its task reports; everything people typed is escaped.
https://confluence.atlassian.com/doc/confluence-storage-format-790796544.html
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape

from plugin.atlassian.storage import People
from plugin.process.config import Rules
from plugin.process.mentions import MENTION
from plugin.process.wording import retention, span_words
from plugin.rules.minutes.minutes_parser import Action, Minutes
from plugin.rules.minutes.wording import say

_TITLE_MAX = 255  # Confluence refuses longer titles


@dataclass(frozen=True)
class Meeting:
    """The meeting as the page shows it (read from its Jira issue)."""

    key: str
    url: str  # the meeting issue in Jira
    summary: str
    start: datetime  # timezone-aware
    organiser: str
    attendees: tuple[str, ...]
    agenda: str
    request_key: str | None = None
    request_summary: str = ""
    lead_department: str = ""  # the request's requesting department, by its name
    planned_minutes: int | None = None  # its end (or its start + meetings.length) less its start


@dataclass(frozen=True)
class TrackedAction:
    """An action and the Jira item that tracks it (None while it could not be created)."""

    action: Action
    key: str | None = None
    url: str | None = None


def page_title(rules: Rules, meeting: Meeting) -> str:
    """The page title from `confluence.title` (date, topic, document kind, per the seeds)."""
    template = rules.confluence.title if rules.confluence else "{date} {meeting_summary}"
    title = template.format(
        date=meeting.start.astimezone(rules.tz).date().isoformat(),
        request_summary=meeting.request_summary,
        meeting_summary=meeting.summary,
        meeting_key=meeting.key,
        kind=say(rules, "minutes.kind"),
        lead_department=meeting.lead_department,
    )
    title = re.sub(r"\s+", " ", title).strip()
    return title if len(title) <= _TITLE_MAX else title[: _TITLE_MAX - 1] + "…"


def _text(value: str, people: People) -> str:
    """Escape what someone typed, showing Jira mentions as the person's name."""
    parts: list[str] = []
    last = 0
    for found in MENTION.finditer(value):
        parts.append(escape(value[last : found.start()]))
        parts.append(people.mention(found.group(1)))
        last = found.end()
    parts.append(escape(value[last:]))
    return "".join(parts).strip()


def _day(value: date) -> str:
    return f'<time datetime="{value.isoformat()}" />'


def length_line(rules: Rules, planned: int | None, minutes: Minutes) -> str:
    """The meeting's planned and actual length, and by how much it ran over."""

    def span(count: int) -> str:
        return span_words(rules, timedelta(minutes=count))

    actual = minutes.actual_minutes
    line = say(
        rules,
        "minutes.page.length_value",
        planned=span(planned) if planned else say(rules, "minutes.page.none"),
        actual=span(actual) if actual else say(rules, "minutes.page.not_recorded"),
    )
    if planned and actual and actual > planned:
        line += say(rules, "minutes.page.over", over=span(actual - planned))
    return line


def render_page(
    rules: Rules,
    meeting: Meeting,
    minutes: Minutes,
    actions: Sequence[TrackedAction],
    people: People,
) -> str:
    """The page body in storage format."""

    def label(entry: str) -> str:
        return escape(say(rules, entry))

    none = f"<p>{label('minutes.page.none')}</p>"
    start = meeting.start.astimezone(rules.tz)
    attendees = ", ".join(people.mention(a) for a in meeting.attendees) or label(
        "minutes.page.none"
    )
    rows = []
    if meeting.request_key:
        request = f"{escape(meeting.request_key)} {escape(meeting.request_summary)}".strip()
        rows.append(("minutes.page.request", request))
    rows += [
        ("minutes.page.topic", f'<a href="{escape(meeting.url)}">{escape(meeting.summary)}</a>'),
        ("minutes.page.time", escape(f"{start:%Y-%m-%d %H:%M} ({rules.timezone})")),
        ("minutes.page.length", escape(length_line(rules, meeting.planned_minutes, minutes))),
        ("minutes.page.organiser", people.mention(meeting.organiser)),
        ("minutes.page.attendees", attendees),
        (
            "minutes.page.recorder",
            people.mention(minutes.recorder) if minutes.recorder else label("minutes.page.none"),
        ),
    ]
    header = "".join(f"<tr><th>{label(entry)}</th><td>{value}</td></tr>" for entry, value in rows)
    agenda = "".join(
        f"<p>{_text(line, people)}</p>" for line in meeting.agenda.splitlines() if line.strip()
    )
    decisions = "".join(f"<li>{_text(text, people)}</li>" for text in minutes.decisions)
    tasks = "".join(
        _task(number, tracked, people, rules) for number, tracked in enumerate(actions, start=1)
    )
    follow_up = f"{people.mention(meeting.organiser)} {label('minutes.page.follow_up_text')}"
    open_points = "".join(
        f"<tr><td>{_text(text, people)}</td><td>{follow_up}</td></tr>"
        for text in minutes.open_points
    )
    open_table = (
        f"<table><tbody><tr><th>{label('minutes.page.open')}</th>"
        f"<th>{label('minutes.page.follow_up')}</th></tr>{open_points}</tbody></table>"
    )
    return (
        f"<table><tbody>{header}</tbody></table>"
        f"<h2>{label('minutes.page.agenda')}</h2>{agenda or none}"
        f"<h2>{label('minutes.page.decisions')}</h2>"
        + (f"<ol>{decisions}</ol>" if decisions else none)
        + f"<h2>{label('minutes.page.actions')}</h2>"
        + (f"<ac:task-list>{tasks}</ac:task-list>" if tasks else none)
        + f"<h2>{label('minutes.page.open')}</h2>"
        + (open_table if open_points else none)
        + f"<p><em>{escape(say(rules, 'minutes.page.footer', key=meeting.key))}</em></p>"
        + _kept(rules, start.date())
    )


def _kept(rules: Rules, since: date) -> str:
    """The page's retention line, when the rules file states one."""
    line = retention(rules, since)
    return f"<p><em>{escape(line)}</em></p>" if line else ""


def _task(number: int, tracked: TrackedAction, people: People, rules: Rules) -> str:
    action = tracked.action
    item = (
        f' <a href="{escape(tracked.url)}">{escape(tracked.key)}</a>'
        if tracked.key and tracked.url
        else ""
    )
    body = (
        f"{escape(action.text)} — {escape(say(rules, 'minutes.page.owner'))} "
        f"{people.mention(action.owner)}, {escape(say(rules, 'minutes.page.due'))} "
        f"{_day(action.due)}{item}"
    )
    return (
        f"<ac:task><ac:task-id>{number}</ac:task-id><ac:task-status>incomplete</ac:task-status>"
        f"<ac:task-body>{body}</ac:task-body></ac:task>"
    )
