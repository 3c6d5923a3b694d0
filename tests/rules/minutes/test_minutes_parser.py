"""Minutes read from realistic text: decisions, actions with one owner and a date, open points."""

from __future__ import annotations

from datetime import date

import pytest

from plugin.rules.minutes.minutes_parser import (
    Action,
    LineProblem,
    agenda,
    due_date,
    length_minutes,
    parse_minutes,
)

ALICE = "557058:00000000-0000-4000-8000-000000000004"
BOB = "557058:00000000-0000-4000-8000-000000000007"
MEETING = date(2026, 3, 5)


def test_a_chinese_meeting_with_bullets_numbering_and_full_width_colons() -> None:
    description = "议程：\n1. 确认方案\n2. 分工"
    comment = f"""会议纪要
* 决议：采用方案 B，3月底上线
* 决议: 预算上限 50 万
1、待办：[~accountid:{ALICE}] 3月10日前提交技术方案
（2）行动：[~accountid:{BOB}] 2026-03-12 完成预算复核
# 待定：财务由谁签字？
记录人：[~accountid:{BOB}]"""
    minutes = parse_minutes([description, comment], MEETING)
    assert minutes.decisions == ["采用方案 B，3月底上线", "预算上限 50 万"]
    assert minutes.actions == [
        Action(
            "3月10日前提交技术方案",
            ALICE,
            date(2026, 3, 10),
            f"待办：[~accountid:{ALICE}] 3月10日前提交技术方案",
        ),
        Action(
            "2026-03-12 完成预算复核",
            BOB,
            date(2026, 3, 12),
            f"行动：[~accountid:{BOB}] 2026-03-12 完成预算复核",
        ),
    ]
    assert minutes.open_points == ["财务由谁签字？"]
    assert minutes.recorder == BOB
    assert minutes.problems == []


def test_english_and_data_center_mentions_mixed_with_chinese() -> None:
    text = """- Decision: go with plan B
- Action: [~engineering.contact] send the budget by 2026-03-10
- Open: who signs for finance?
- 待办：[~finance.contact] 3月9日 核对报价
Recorder: [~pm]"""
    minutes = parse_minutes([text], MEETING)
    assert minutes.decisions == ["go with plan B"]
    assert [(a.owner, a.due) for a in minutes.actions] == [
        ("engineering.contact", date(2026, 3, 10)),
        ("finance.contact", date(2026, 3, 9)),
    ]
    assert minutes.recorder == "pm"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("待办：下周五前提交方案", "no_owner"),
        (f"待办：[~accountid:{ALICE}] 和 [~accountid:{BOB}] 3月10日前对齐", "two_owners"),
        (
            f"待办：[~accountid:{ALICE}] 下周五前提交方案",
            "no_date",
        ),  # relative dates are not guessed
        ("Action: [~alice] soon", "no_date"),
    ],
)
def test_an_action_without_one_owner_and_a_date_is_reported_with_its_line(
    line: str, reason: str
) -> None:
    minutes = parse_minutes([line], MEETING)
    assert minutes.actions == []
    assert minutes.problems == [LineProblem(line, reason)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3月10日前", date(2026, 3, 10)),
        ("3月5号", date(2026, 3, 5)),  # the meeting day itself
        ("1月15日", date(2027, 1, 15)),  # already past this year: next year's
        ("2月30日", None),
        ("2026-3-9", date(2026, 3, 9)),
        ("2026-13-01", None),
        ("下周五", None),
    ],
)
def test_dates_are_iso_or_month_and_day_on_or_after_the_meeting(
    text: str, expected: date | None
) -> None:
    assert due_date(text, MEETING) == expected


def test_lines_that_are_not_minutes_and_quoted_mentions_are_ignored() -> None:
    text = f"讨论了很多\n决议：\n{{quote}}待办：[~accountid:{ALICE}] 3月10日{{quote}}\n普通的一行：不是纪要"
    minutes = parse_minutes([text], MEETING)
    assert minutes.decisions == [] and minutes.problems == []


def test_the_agenda_is_the_description_without_its_minutes_lines() -> None:
    description = "议程：\n1. 确认方案\n* 决议：采用方案 B\n2. 分工\n待办：[~alice] 2026-03-10 报价"
    assert agenda(description) == "议程：\n1. 确认方案\n2. 分工"
    assert agenda(None) == "" and agenda("决议：只有结论") == ""


def test_actions_past_the_meetings_limit_become_problems_in_the_order_written() -> None:
    from plugin.rules.minutes.minutes_parser import within_action_limit

    lines = [f"待办：[~accountid:a{n}] 2026-03-10 第 {n} 项" for n in range(4)]
    minutes = parse_minutes(["\n".join(lines)], date(2026, 3, 2))

    kept = within_action_limit(minutes, 3)

    assert [a.owner for a in kept.actions] == ["a0", "a1", "a2"]
    assert [(p.line, p.reason) for p in kept.problems] == [(lines[3], "over_limit")]
    assert within_action_limit(kept, 3) == kept


@pytest.mark.parametrize(
    ("written", "minutes"),
    [
        ("45 分钟", 45),
        ("1 小时 10 分钟", 70),
        ("1.5 小时", 90),
        ("90分", 90),
        ("45 min", 45),
        ("1 h 10 min", 70),
        ("1h10m", 70),
        ("2 hours", 120),
        ("45", None),  # no unit: minutes or hours?
        ("大约一小时", None),
        ("45 分钟左右", None),  # more than a length
    ],
)
def test_a_length_as_people_write_it(written: str, minutes: int | None) -> None:
    assert length_minutes(written) == minutes


def test_the_actual_length_is_kept_and_one_it_cannot_read_is_a_problem_of_its_line() -> None:
    kept = parse_minutes(["实际时长：50 分钟", "Duration: 1 h"], date(2026, 3, 5))
    assert kept.actual_minutes == 60 and kept.problems == []
    unread = parse_minutes(["* 实际时长：大概一个小时"], date(2026, 3, 5))
    assert unread.actual_minutes is None
    assert [(p.line, p.reason) for p in unread.problems] == [
        ("实际时长：大概一个小时", "no_length")
    ]
