"""The minutes rule's own decisions: what a meeting is, an action's identity, notice and agenda."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from plugin.rules.minutes.minutes import (
    _short_notice,
    action_ref,
    is_meeting,
    jira_time,
    read_meeting,
)
from plugin.rules.minutes.minutes_parser import Action
from plugin.spine.events import parse_event
from tests.fakes import load_default_rules

ALICE = "557058:00000000-0000-4000-8000-000000000004"


def meeting_issue(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "summary": "规划会",
        "description": "议程：分工",
        "issuetype": {"name": "会议"},
        "project": {"key": "XD"},
        "reporter": {"accountId": "pm-id", "displayName": "PM"},
        "customfield_10060": "2026-03-05T14:00:00.000+0800",
        "customfield_10061": [{"accountId": ALICE, "displayName": "Alice"}],
        "issuelinks": [{"type": {"name": "Relates"}, "inwardIssue": {"key": "XD-1"}}],
    }
    base.update(fields)
    return {"key": "XD-7", "fields": base}


def test_an_action_keeps_its_identity_when_only_its_date_changes() -> None:
    first = Action("3月10日 提交技术方案", ALICE, date(2026, 3, 10), "line")
    moved = Action("2026-03-12 提交技术方案", ALICE, date(2026, 3, 12), "other line")
    other_owner = Action("3月10日 提交技术方案", "someone-else", date(2026, 3, 10), "line")
    other_words = Action("3月10日 提交预算", ALICE, date(2026, 3, 10), "line")
    assert action_ref(first) == action_ref(moved)
    assert len({action_ref(first), action_ref(other_owner), action_ref(other_words)}) == 3


def test_a_meeting_is_read_with_its_start_attendees_organiser_and_related_issues() -> None:
    rules = load_default_rules()
    issue = meeting_issue()
    assert is_meeting(issue, rules)
    meeting = read_meeting(issue, rules)
    assert meeting.start == datetime(2026, 3, 5, 6, 0, tzinfo=UTC)
    assert meeting.attendees == (ALICE,) and meeting.organiser == "pm-id"
    assert meeting.related == ("XD-1",)
    assert meeting.names == {ALICE: "Alice", "pm-id": "PM"}
    assert not is_meeting(meeting_issue(issuetype={"name": "Task"}), rules)
    assert not is_meeting(meeting_issue(project={"key": "OTHER"}), rules)


def test_jira_times_with_and_without_milliseconds_and_nonsense() -> None:
    assert jira_time("2026-03-05T14:00:00+0800") == datetime(2026, 3, 5, 6, tzinfo=UTC)
    assert jira_time("next friday") is None and jira_time(None) is None


def test_short_notice_on_creation_and_when_the_start_moves_but_not_on_other_edits() -> None:
    rules = load_default_rules()
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    soon, later = now + timedelta(days=1), now + timedelta(days=5)

    def event(name: str, field: str | None = None):  # type: ignore[no-untyped-def]
        body: dict[str, object] = {"webhookEvent": name, "issue": meeting_issue()}
        if field:
            body["changelog"] = {"items": [{"field": "会议时间", "fieldId": field}]}
        return parse_event(body)

    assert _short_notice(event("jira:issue_created"), soon, now, rules)
    assert not _short_notice(event("jira:issue_created"), later, now, rules)
    assert _short_notice(event("jira:issue_updated", "customfield_10060"), soon, now, rules)
    assert not _short_notice(event("jira:issue_updated", "summary"), soon, now, rules)
    assert not _short_notice(event("jira:issue_created"), now - timedelta(hours=1), now, rules)


def test_minutes_are_due_a_day_after_the_meeting_ends_not_after_it_starts() -> None:
    rules = load_default_rules()
    meeting = read_meeting(meeting_issue(), rules)  # no end field: it lasts meetings.length (1 h)
    assert meeting.end == datetime(2026, 3, 5, 7, 0, tzinfo=UTC)
    assert meeting.minutes_due(rules) == datetime(2026, 3, 6, 7, 0, tzinfo=UTC)


def test_an_end_field_says_when_the_meeting_ends_unless_it_is_before_the_start() -> None:
    base = load_default_rules()
    assert base.meetings is not None  # type: ignore[attr-defined]
    meetings = base.meetings.model_copy(  # type: ignore[attr-defined]
        update={"fields": base.meetings.fields.model_copy(update={"end": "customfield_10062"})}  # type: ignore[attr-defined]
    )
    rules = base.model_copy(update={"meetings": meetings})
    long = read_meeting(meeting_issue(customfield_10062="2026-03-05T17:30:00.000+0800"), rules)
    assert long.end == datetime(2026, 3, 5, 9, 30, tzinfo=UTC)
    assert long.minutes_due(rules) == datetime(2026, 3, 6, 9, 30, tzinfo=UTC)
    wrong = read_meeting(meeting_issue(customfield_10062="2026-03-05T09:00:00.000+0800"), rules)
    assert wrong.end == datetime(2026, 3, 5, 7, 0, tzinfo=UTC)  # before its start: the default
    unscheduled = read_meeting(meeting_issue(customfield_10060=None), rules)
    assert unscheduled.end is None and unscheduled.minutes_due(rules) is None
