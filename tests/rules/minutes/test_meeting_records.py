"""The meeting tables: due times, pages, action intents and keys, each verb safe to repeat."""

from __future__ import annotations

from plugin.rules.minutes.meeting_records import MeetingRecords
from plugin.spine.store import Store


def test_a_page_is_recorded_for_a_meeting_no_webhook_announced(store: Store) -> None:
    records = MeetingRecords(store)
    records.published("XD-7", "65539", "digest-1", 100.0)
    records.published("XD-7", "65539", "digest-2", 200.0)
    record = records.get("XD-7")
    assert record is not None
    assert (record.page_id, record.page_digest, record.published_at) == ("65539", "digest-2", 200.0)


def test_overdue_minutes_are_found_once_and_published_ones_never(store: Store) -> None:
    records = MeetingRecords(store)
    records.note("XD-7", "pm", 1000.0, 0.0)
    records.note("XD-8", "pm", 1000.0, 0.0)
    records.note("XD-9", "pm", 5000.0, 0.0)  # not due yet
    records.published("XD-8", "1", "d", 900.0)
    assert [r.meeting_key for r in records.overdue(2000.0)] == ["XD-7"]
    assert records.mark_asked("XD-7") is True
    assert records.mark_asked("XD-7") is False  # a second sweep, a retry
    assert records.overdue(2000.0) == []


def test_an_intent_is_kept_until_its_key_is_recorded_or_jira_refuses_it(store: Store) -> None:
    records = MeetingRecords(store)
    records.intend("XD-7", {"a1": "[XD-7 action] budget", "a2": "[XD-7 action] plan"}, 10.0)
    records.intend("XD-7", {"a1": "again"}, 20.0)  # a retry keeps the first intent
    records.record_created("XD-7", {"a1": "XD-21"})
    records.drop_intents("XD-7", ["a1", "a2"])  # a created item is never forgotten
    actions = records.actions("XD-7")
    assert list(actions) == ["a1"]
    assert (actions["a1"].issue_key, actions["a1"].summary, actions["a1"].intended_at) == (
        "XD-21",
        "[XD-7 action] budget",
        10.0,
    )
    records.mark_removed_reported("XD-7", ["a1"])
    assert records.actions("XD-7")["a1"].removed_reported == 1
