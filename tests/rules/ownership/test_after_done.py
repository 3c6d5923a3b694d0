"""Deadlines counted from a stage's actual completion, on data alone."""

from __future__ import annotations

from datetime import date

from plugin.rules.ownership.after_done import redates_after_done
from tests.fakes import load_default_rules

TREE = {
    "s5": "XD-30",
    "s5.d1": "XD-31",
    "s6": "XD-40",
    "s6.d1": "XD-41",
    "s6.d2": "XD-42",
    "s60": "XD-99",  # not stage 6's: only refs under s6 are its own
}


def test_the_retrospective_is_due_five_working_days_after_the_acceptance_was_done() -> None:
    rules = load_default_rules()  # after_done: stage 5 -> stage 6, 5 working days
    done = date(2026, 4, 2)  # a Thursday; 4-6 April are the Qingming days off
    found = redates_after_done(rules, "s5", done, TREE, {})
    assert {r.key for r in found} == {"XD-40", "XD-41", "XD-42"}
    assert {r.due for r in found} == {rules.work_calendar.add_working_days(done, 5)}
    assert found[0].due == date(2026, 4, 10)  # Fri 3, then Tue 7 to Fri 10 (Mon 6 is off)


def test_nothing_moves_when_the_dates_are_set_or_a_deliverable_is_done() -> None:
    rules = load_default_rules()
    done = date(2026, 4, 2)
    due = rules.work_calendar.add_working_days(done, 5)
    assert redates_after_done(rules, "s5", done, TREE, dict.fromkeys(TREE.values(), due)) == []
    assert redates_after_done(rules, "s5.d1", done, TREE, {}) == []  # only a stage's end counts
    assert redates_after_done(rules, "s4", done, TREE, {}) == []  # no deadline counts from it
