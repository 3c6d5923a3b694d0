"""The rules models: durations, working hours, defaults and field-level checks."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from plugin.process.config import (
    CalendarRules,
    EscalationStep,
    MeetingLength,
    OwnershipRules,
    Rules,
    describe_value,
    format_duration,
    parse_duration,
)
from tests.fakes import load_default_rules


def minimal(**overrides: Any) -> dict[str, Any]:
    """The smallest valid rules, as plain data, with top-level keys replaced."""
    data: dict[str, Any] = {
        "jira": {
            "projects": ["XD"],
            "request": {
                "issue_type": "跨部门协作需求",
                "fields": {"requesting_department": "cf1", "departments": "cf2"},
            },
        },
        "departments": {"市场部": {"head": "marketing.head", "contact": "marketing.contact"}},
        "stages": [{"name": "需求发起", "days": 3}],
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("24h", timedelta(hours=24)),
        ("3d", timedelta(days=3)),
        ("90m", timedelta(minutes=90)),
        ("90min", timedelta(minutes=90)),
        ("2w", timedelta(weeks=2)),
        (" 1.5h ", timedelta(minutes=90)),
        (48, timedelta(hours=48)),
        (0.5, timedelta(minutes=30)),
        (timedelta(hours=2), timedelta(hours=2)),
    ],
)
def test_durations_read_as_admins_write_them(written: object, meant: timedelta) -> None:
    assert parse_duration(written) == meant


@pytest.mark.parametrize("written", ["soon", "3 days", "h", "", True, -1, None, "24 hours"])
def test_anything_else_is_not_a_duration(written: object) -> None:
    with pytest.raises(ValueError, match="expected a duration such as 24h, 3d or 90m"):
        parse_duration(written)


def test_a_bad_duration_is_quoted_as_written() -> None:
    with pytest.raises(ValueError, match='not "soon"$'):
        parse_duration("soon")


@pytest.mark.parametrize(
    ("duration", "written"),
    [
        (timedelta(hours=24), "24h"),
        (timedelta(hours=48), "48h"),
        (timedelta(days=3), "3d"),
        (timedelta(weeks=1), "1w"),
        (timedelta(minutes=90), "90m"),
    ],
)
def test_durations_are_written_back_in_the_natural_unit(duration: timedelta, written: str) -> None:
    assert format_duration(duration) == written
    assert parse_duration(written) == duration


def test_duration_fields_accept_text_and_serialize_back_to_text() -> None:
    step = EscalationStep.model_validate({"after": "48h", "to": "head"})
    assert step.after == timedelta(hours=48)
    assert step.model_dump(mode="json") == {"after": "48h", "to": "head", "clock": None}


def test_working_hours_parse_and_default_to_nine_to_six() -> None:
    assert CalendarRules().work_hours == (time(9, 0), time(18, 0))
    calendar = CalendarRules.model_validate({"work_hours": "08:30-17:30"})
    assert calendar.work_hours == (time(8, 30), time(17, 30))
    assert calendar.model_dump(mode="json")["work_hours"] == "08:30-17:30"


@pytest.mark.parametrize(
    ("written", "complaint"),
    [
        ("18:00-09:00", "must end after it starts"),
        ("nine to six", 'expected working hours such as "09:00-18:00"'),
        ("25:00-26:00", "not a time of day"),
    ],
)
def test_bad_working_hours_are_refused(written: str, complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        CalendarRules.model_validate({"work_hours": written})


def test_defaults_follow_the_process() -> None:
    ownership = OwnershipRules()
    assert ownership.overdue_after_days == 2
    assert ownership.warn_before_due == timedelta(hours=24)
    rules = Rules.model_validate(minimal())
    assert rules.timezone == "Asia/Shanghai"
    assert rules.calendar.holidays == "CN"
    assert rules.calendar.workdays == ["mon", "tue", "wed", "thu", "fri"]


def test_rules_are_frozen() -> None:
    rules = Rules.model_validate(minimal())
    with pytest.raises(ValidationError):
        rules.language = "en"


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra_forbidden|Extra inputs"):
        Rules.model_validate(minimal(langauge="en"))


def test_text_picks_english_only_when_asked_and_available() -> None:
    chinese = Rules.model_validate(minimal())
    english = Rules.model_validate(minimal(language="en"))
    assert chinese.text("成果验收", "Acceptance") == "成果验收"
    assert english.text("成果验收", "Acceptance") == "Acceptance"
    assert english.text("成果验收", None) == "成果验收"


def test_unknown_timezone_suggests_the_near_one() -> None:
    with pytest.raises(ValidationError, match='unknown timezone "Asia/Shanghia"; did you mean'):
        Rules.model_validate(minimal(timezone="Asia/Shanghia"))


def test_unknown_holiday_country_is_refused_and_null_means_none() -> None:
    with pytest.raises(ValidationError, match='unknown holiday country "XX"'):
        Rules.model_validate(minimal(calendar={"holidays": "XX"}))
    assert Rules.model_validate(minimal(calendar={"holidays": None})).calendar.holidays is None


def test_blank_people_are_refused() -> None:
    with pytest.raises(ValidationError, match="at least 1 character"):
        Rules.model_validate(minimal(departments={"市场部": {"head": "  ", "contact": "c"}}))


def test_meeting_cannot_end_before_its_shortest_length() -> None:
    with pytest.raises(ValidationError, match=r"max_minutes \(30\) is less than min_minutes"):
        MeetingLength.model_validate({"kind": "启动会", "min_minutes": 60, "max_minutes": 30})


def test_values_are_described_as_yaml_would_show_them() -> None:
    assert describe_value("研发部") == '"研发部"'
    assert describe_value(None) == "null"
    assert describe_value(True) == "true"
    assert describe_value([1]) == "a list"
    assert describe_value({"a": 1}) == "a mapping"


def test_the_calendar_and_the_department_lookup_are_compiled_once_per_rules_file() -> None:
    rules = load_default_rules()
    assert rules.work_calendar is rules.work_calendar
    assert rules.departments_by_person is rules.departments_by_person
    head = rules.departments["技术部"].head
    assert rules.departments_by_person[head][0] == "技术部"


def test_a_changed_copy_compiles_its_own_calendar_and_departments() -> None:
    rules = load_default_rules()
    a_saturday = date(2026, 12, 5)
    assert not rules.work_calendar.is_working_day(a_saturday)
    changed = rules.model_copy(
        update={
            "calendar": rules.calendar.model_copy(update={"extra_workdays": [a_saturday]}),
            "departments": {"技术部": rules.departments["技术部"]},
        }
    )
    assert changed.work_calendar.is_working_day(a_saturday)
    assert not rules.work_calendar.is_working_day(a_saturday)
    assert set(changed.departments_by_person.values()) == {("技术部",)}
