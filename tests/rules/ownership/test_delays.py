"""Delays decided purely: late items are 延期, close ones are reminded once, long ones go to the PM."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from plugin.process.calendar import WorkCalendar
from plugin.process.items import is_done
from plugin.rules.ownership.delays import DelayDecision, DueItem, decide, due_item
from tests.fakes import load_default_rules

RULES = load_default_rules()
CALENDAR = WorkCalendar.from_rules(RULES.calendar)
# Wednesday 2026-03-11, 10:00 in Shanghai.
NOW = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)


def item(
    due: date | None,
    *,
    done: bool = False,
    labels: tuple[str, ...] = (),
    owner: str | None = "alice",
) -> DueItem:
    return DueItem("XD-9", due, done, frozenset(labels), owner)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (item(date(2026, 3, 13)), DelayDecision("XD-9")),  # Friday: more than 24 h away
        (item(date(2026, 3, 12)), DelayDecision("XD-9")),  # due by tomorrow's end: 38 h away
        (item(date(2026, 3, 11)), DelayDecision("XD-9", remind_owner=True)),  # 14 h left: warn
        (item(date(2026, 3, 11), owner=None), DelayDecision("XD-9")),  # nobody to remind
        (item(date(2026, 3, 10)), DelayDecision("XD-9", add_label=True, days_late=1)),
        (
            item(date(2026, 3, 10), labels=("延期",)),
            DelayDecision("XD-9", days_late=1),
        ),  # marked already
        (item(date(2026, 3, 6)), DelayDecision("XD-9", add_label=True, days_late=3, tell_pm=True)),
        (
            item(date(2026, 3, 9)),
            DelayDecision("XD-9", add_label=True, days_late=2),
        ),  # 2 is not more than 2
        (
            item(date(2026, 3, 6), done=True, labels=("延期",)),
            DelayDecision("XD-9", remove_label=True),
        ),
        (
            item(date(2026, 3, 20), labels=("延期",)),
            DelayDecision("XD-9", remove_label=True),
        ),  # re-dated
        (item(None, labels=("延期",)), DelayDecision("XD-9", remove_label=True)),
    ],
)
def test_each_item_gets_what_the_process_asks(subject: DueItem, expected: DelayDecision) -> None:
    assert decide(subject, NOW, RULES, CALENDAR) == expected


def test_days_late_are_working_days_on_the_calendar() -> None:
    # Due before the 2026 Qingming holiday (Sat 4 – Mon 6 April); looked at on Wednesday 8 April.
    now = datetime(2026, 4, 8, 2, 0, tzinfo=UTC)
    decision = decide(item(date(2026, 4, 3)), now, RULES, CALENDAR)
    assert (
        decision.days_late == 2
    )  # Tuesday and Wednesday; the weekend and the holiday do not count


def test_english_rules_use_their_own_label_and_a_search_hit_reads_as_an_item() -> None:
    english = load_default_rules(language="en")
    marked = item(date(2026, 3, 20), labels=("delayed",))
    assert decide(marked, NOW, english, CALENDAR).remove_label
    hit = {
        "key": "XD-9",
        "fields": {
            "duedate": "2026-03-10",
            "status": {"name": "进行中", "statusCategory": {"key": "indeterminate"}},
            "labels": ["延期"],
            "assignee": {"name": "alice"},
        },
    }
    assert due_item(hit, RULES) == DueItem(
        "XD-9", date(2026, 3, 10), False, frozenset({"延期"}), "alice", "进行中"
    )
    assert is_done(
        {"status": {"name": "已完成", "statusCategory": {"key": "indeterminate"}}}, RULES
    )
    assert is_done({"status": {"name": "Closed", "statusCategory": {"key": "done"}}}, RULES)


def test_with_a_delayed_status_the_mark_is_the_status_not_the_label() -> None:
    from plugin.process.config import DelayedStatus

    rules = RULES.model_copy(
        update={
            "ownership": RULES.ownership.model_copy(
                update={"delayed_status": DelayedStatus(status="延期", back_to="进行中")}
            )
        }
    )
    late = DueItem("XD-9", date(2026, 3, 10), False, frozenset(), "alice", "进行中")
    assert decide(late, NOW, rules, CALENDAR).add_label  # move it into 延期
    already = DueItem("XD-9", date(2026, 3, 10), False, frozenset({"延期"}), "alice", "延期")
    assert not decide(already, NOW, rules, CALENDAR).add_label
    redated = DueItem("XD-9", date(2026, 3, 20), False, frozenset(), "alice", "延期")
    assert decide(redated, NOW, rules, CALENDAR).remove_label  # back to 进行中
    done = DueItem("XD-9", date(2026, 3, 10), True, frozenset(), "alice", "已完成")
    assert not decide(done, NOW, rules, CALENDAR).acts
