"""Meeting minutes read from what was written in Jira, purely: decisions, actions, open points.

The collaboration process: minutes hold the decisions (决议事项), each action with exactly
one owner (负责人) and a due date (完成时间), and the undecided points with a follow-up. People
write them in the meeting issue's description and comments, a line each, in either language:

    决议：采用方案 B                        Decision: go with plan B
    待办：[~accountid:…] 3月10日前提交预算   Action: [~alice] send the budget by 2026-03-10
    行动：…                                Open: who signs for finance?
    待定：财务由谁签字？                     Recorder: [~bob]
    记录人：[~accountid:…]                   Duration: 1 h 10 min
    实际时长：45 分钟

Bullets (`*`, `-`, `•`, `#`) and numbering (`1.`, `1、`, `(1)`, `（1）`) in front are fine, and so
are full-width colons. An action needs exactly one mentioned owner and a date: `2026-03-10`, or
`3月10日` (its next occurrence on or after the meeting day). Relative dates such as 下周五 are not
guessed: such an action is reported, with its line, and nothing is made of it. The actual
length (`45 分钟`, `1 小时 10 分钟`, `1.5 小时`, `45 min`, `1 h 10 min`) is set against the planned
one on the minutes page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from plugin.process.mentions import MENTION, mentioned
from plugin.process.minutes_lines import MARKER, MARKERS, PREFIX

_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_MONTH_DAY = re.compile(r"(?<!\d)(\d{1,2})月(\d{1,2})[日号]")


@dataclass(frozen=True)
class Action:
    """One action: what, its one owner, its due date, and the line it came from."""

    text: str
    owner: str
    due: date
    line: str


@dataclass(frozen=True)
class LineProblem:
    """A line that could not become part of the minutes, and why (a short code)."""

    line: str
    reason: str  # "no_owner", "two_owners", "no_date", "over_limit", "no_length"


@dataclass
class Minutes:
    """What the meeting recorded."""

    decisions: list[str] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    open_points: list[str] = field(default_factory=list)
    recorder: str | None = None
    problems: list[LineProblem] = field(default_factory=list)
    actual_minutes: int | None = None  # how long the meeting took, as the record says


def due_date(text: str, meeting_day: date) -> date | None:
    """The date an action names: ISO, or 月/日 at its next occurrence on or after the meeting day."""
    iso = _ISO.search(text)
    if iso:
        try:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            return None
    month_day = _MONTH_DAY.search(text)
    if month_day:
        month, day = int(month_day.group(1)), int(month_day.group(2))
        for year in (meeting_day.year, meeting_day.year + 1):
            try:
                candidate = date(year, month, day)
            except ValueError:
                continue
            if candidate >= meeting_day:
                return candidate
    return None


_LENGTH_PART = re.compile(
    r"(\d+(?:\.\d+)?)\s*(小时|个小时|钟头|hours?|hrs?|h|分钟|分|minutes?|mins?|m)(?![a-z])",
    re.IGNORECASE,
)


def length_minutes(text: str) -> int | None:
    """A length as people write it, in whole minutes: 45 分钟, 1 小时 10 分钟, 1.5 小时, 45 min,
    1 h 10 min; None when it names no length, or anything besides one."""
    total = 0.0
    rest = text
    found = False
    for number, unit in _LENGTH_PART.findall(text):
        found = True
        hours = unit.lower().startswith(("小时", "个小时", "钟头", "h"))
        total += float(number) * (60 if hours else 1)
    rest = _LENGTH_PART.sub("", text).strip(" ，,。.")
    if not found or rest or total <= 0:
        return None
    return round(total)


def without_dates(text: str) -> str:
    """The text with the dates an action may name taken out (they live in the due date)."""
    return re.sub(r"\s+", " ", _MONTH_DAY.sub("", _ISO.sub("", text))).strip()


def _kind(word: str) -> str:
    lowered = word.lower()
    return next(kind for kind, words in MARKERS if lowered in (w.lower() for w in words))


def parse_minutes(texts: Iterable[str], meeting_day: date) -> Minutes:
    """Collect the minutes from the texts people wrote (description first, then comments)."""
    minutes = Minutes()
    for text in texts:
        for raw in (text or "").splitlines():
            line = PREFIX.sub("", raw.strip(), count=1).strip()
            found = MARKER.match(line)
            if found is None:
                continue
            kind, rest = _kind(found.group("word")), found.group("rest").strip()
            if not rest:
                continue
            if kind == "decision":
                minutes.decisions.append(rest)
            elif kind == "open":
                minutes.open_points.append(rest)
            elif kind == "recorder":
                people = mentioned(rest)
                minutes.recorder = people[0] if people else minutes.recorder
            elif kind == "length":
                length = length_minutes(rest)
                if length is None:
                    minutes.problems.append(LineProblem(line, "no_length"))
                else:
                    minutes.actual_minutes = length
            else:
                _action(minutes, rest, line, meeting_day)
    return minutes


def within_action_limit(minutes: Minutes, most: int) -> Minutes:
    """The minutes with at most `most` actions: the first ones, in the order people wrote them;
    each line past the limit becomes a problem, so it is named once and creates nothing."""
    if len(minutes.actions) <= most:
        return minutes
    over = [LineProblem(action.line, "over_limit") for action in minutes.actions[most:]]
    return replace(minutes, actions=minutes.actions[:most], problems=minutes.problems + over)


def _action(minutes: Minutes, rest: str, line: str, meeting_day: date) -> None:
    owners = mentioned(rest)
    due = due_date(rest, meeting_day)
    if not owners:
        minutes.problems.append(LineProblem(line, "no_owner"))
    elif len(owners) > 1:
        minutes.problems.append(LineProblem(line, "two_owners"))
    elif due is None:
        minutes.problems.append(LineProblem(line, "no_date"))
    else:
        text = re.sub(r"\s+", " ", MENTION.sub("", rest)).strip()
        minutes.actions.append(Action(text, owners[0], due, line))


def agenda(description: str | None) -> str:
    """The description without its minutes lines: what the meeting was called to discuss."""
    kept = [
        raw.rstrip()
        for raw in (description or "").splitlines()
        if MARKER.match(PREFIX.sub("", raw.strip(), count=1).strip()) is None
    ]
    return "\n".join(kept).strip()
