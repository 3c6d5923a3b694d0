"""The minutes page in Confluence storage format, and a local HTML preview of it, purely.

Storage format is XHTML with Confluence's own elements: actions become native tasks
(`ac:task-list`) whose body holds the owner's mention and a `<time>` date lozenge, so Confluence
shows them in its task reports; everything people typed is escaped.
https://confluence.atlassian.com/doc/confluence-storage-format-790796544.html
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from html import escape

from plugin.process.mentions import MENTION
from plugin.process.rules import Rules
from plugin.process.wording import say
from plugin.rules.minutes.minutes_parser import Action, Minutes

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


@dataclass(frozen=True)
class TrackedAction:
    """An action and the Jira item that tracks it (None while it could not be created)."""

    action: Action
    key: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class People:
    """How to show and mention people: display names, and on Data Center Confluence user keys."""

    names: Mapping[str, str] = field(default_factory=dict)
    user_keys: Mapping[str, str] = field(default_factory=dict)
    cloud: bool = True

    def name(self, account: str) -> str:
        """A person's display name (their account id or username when Jira did not say)."""
        return self.names.get(account, account)

    def mention(self, account: str) -> str:
        """Storage markup that mentions a person: account id on Cloud, user key on Data Center."""
        if self.cloud:
            ref = f'ri:account-id="{escape(account)}"'
        elif account in self.user_keys:
            ref = f'ri:userkey="{escape(self.user_keys[account])}"'
        else:  # Confluence Data Center still reads the older username reference
            ref = f'ri:username="{escape(account)}"'
        return f"<ac:link><ri:user {ref} /></ac:link>"


def page_title(rules: Rules, meeting: Meeting) -> str:
    """The page title from `confluence.title` (date, topic, document kind, per the seeds)."""
    template = rules.confluence.title if rules.confluence else "{date} {meeting_summary}"
    title = template.format(
        date=meeting.start.astimezone(rules.tz).date().isoformat(),
        request_summary=meeting.request_summary,
        meeting_summary=meeting.summary,
        meeting_key=meeting.key,
        kind=say(rules, "minutes.kind"),
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
    )


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


# -- preview ------------------------------------------------------------------------------------

_NAMESPACES = {
    "ac": "http://atlassian.com/content",
    "ri": "http://atlassian.com/resource/identifier",
}
_AC = "{" + _NAMESPACES["ac"] + "}"
_RI = "{" + _NAMESPACES["ri"] + "}"


def parse_storage(body: str) -> ElementTree.Element:
    """Parse a storage-format body as XML (its namespaces declared on a wrapper element)."""
    declarations = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in _NAMESPACES.items())
    return ElementTree.fromstring(f"<storage {declarations}>{body}</storage>")


def preview_html(title: str, body: str, people: People) -> str:
    """A standalone HTML page showing the minutes as Confluence would, for `--preview`."""
    root = parse_storage(body)
    by_user_key = {key: account for account, key in people.user_keys.items()}
    _to_html(root, people, by_user_key)
    inner = "".join(
        ElementTree.tostring(child, encoding="unicode", method="html") for child in root
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.3em .6em;"
        "text-align:left}.mention{color:#0052cc}.task{list-style:none}</style>"
        f"</head><body><h1>{escape(title)}</h1>{inner}</body></html>\n"
    )


def _to_html(element: ElementTree.Element, people: People, by_user_key: Mapping[str, str]) -> None:
    """Rewrite Confluence elements in place into plain HTML."""
    for child in list(element):
        _to_html(child, people, by_user_key)
        if child.tag == f"{_AC}link":
            user = child.find(f"{_RI}user")
            reference = next(iter(user.attrib.values()), "") if user is not None else ""
            account = by_user_key.get(reference, reference)
            tail = child.tail
            child.clear()
            child.tag, child.text, child.tail = "span", f"@{people.name(account)}", tail
            child.set("class", "mention")
        elif child.tag == "time":
            child.tag, child.text = "strong", child.get("datetime", "")
            child.attrib.pop("datetime", None)
        elif child.tag == f"{_AC}task-list":
            child.tag = "ul"
        elif child.tag == f"{_AC}task":
            body = child.find("span")  # the task body, already rewritten
            done = (child.findtext(f"{_AC}task-status") or "") == "complete"
            for part in list(child):
                child.remove(part)
            child.tag, child.text = "li", ("☑ " if done else "☐ ")
            child.set("class", "task")
            if body is not None:
                child.text += body.text or ""
                child.extend(list(body))
        elif child.tag == f"{_AC}task-body":
            child.tag = "span"
