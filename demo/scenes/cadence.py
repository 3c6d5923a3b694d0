"""The cadence rule: crossdept files the request's weekly meeting, the notice period ahead."""

from __future__ import annotations

from datetime import UTC, datetime

from demo.harness import Demo, DemoError
from plugin.rules.cadence.config import cadence_rules
from plugin.rules.cadence.occurrences import FILING_WINDOW, weekly_occurrences
from plugin.rules.cadence.wording import say
from plugin.rules.minutes import configured_meetings

ORGANISER = "customfield_10063"  # meetings.fields.organiser in the shipped rules


def scene_weekly_meeting(demo: Demo) -> None:
    """15. The weekly meeting: once its filing window comes, crossdept files the request's
    weekly meeting with its agenda, organised by the PM, at least the notice period ahead."""
    rules = demo.rules
    cadence = cadence_rules(rules)
    if cadence is None or cadence.weekly is None:
        raise DemoError("the shipped rules have no weekly meeting (cadence.weekly)")
    notice = configured_meetings(rules).notice
    now = datetime.now(UTC)
    # The next meeting whose filing window is still ahead, and the middle of that window.
    occurrence = next(
        o
        for o in weekly_occurrences(cadence.weekly, rules.work_calendar, rules.tz, now)
        if o.filing_window(notice)[0] > now
    )
    opens, _closes = occurrence.filing_window(notice)
    moment = (opens + FILING_WINDOW / 2).isoformat(timespec="seconds")
    said = demo.crossdept_command("periodic", "file_cadence_meetings", "--now", moment)
    again = demo.crossdept_command("periodic", "file_cadence_meetings", "--now", moment)
    found = demo.requester.search_issues(
        f'project = XD AND issuetype = 会议 AND issue in linkedIssues("{demo.request_key}")',
        fields=["summary", "description", "assignee", ORGANISER],
        limit=10,
    )
    # The request has the meeting people filed in an earlier scene too; the weekly one is titled
    # by its day.
    title = say(
        rules, "cadence.weekly.summary", day=f"{occurrence.start:%Y-%m-%d}", request_summary=""
    )
    weekly = [m for m in found if str((m.get("fields") or {}).get("summary")).startswith(title)]
    if len(weekly) != 1:
        raise DemoError(f"expected one weekly meeting for {demo.request_key}, found {len(weekly)}")
    meeting = weekly[0]
    fields = meeting.get("fields") or {}
    organiser = (fields.get(ORGANISER) or {}).get("displayName")
    demo.say("15. The weekly meeting: filed once, the notice period ahead, with its agenda")
    demo.say(f"   `crossdept periodic file_cadence_meetings --now {moment}` → {said.strip()}")
    demo.say(f"   run again → {again.strip()}")
    demo.say(f"   {meeting['key']} {fields.get('summary')}, organised by {organiser}")
    for line in str(fields.get("description") or "").splitlines()[:4]:
        demo.say(f"   | {line}")
    demo.say("")
    demo.summary["weekly_meeting"] = {
        "meeting": meeting["key"],
        "summary": fields.get("summary"),
        "organiser": organiser,
        "starts": occurrence.start.isoformat(),
        "filed": said.strip(),
        "again": again.strip(),
    }


SCENES = (scene_weekly_meeting,)
