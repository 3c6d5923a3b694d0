"""A risk warning read from an owner's comment: the fields the guides name, or what it lacks."""

from __future__ import annotations

import pytest

from plugin.rules.risks.warning import Reading, RiskWarning, is_warning, read_warning

LEVELS = ["高", "中", "低"]


def read(body: str, levels: list[str] = LEVELS, default: str = "中") -> Reading | None:
    return read_warning(body, levels, default)


def test_each_field_on_its_own_line_in_chinese_with_wiki_markup_and_a_bullet() -> None:
    body = "h4. 风险预警\n* *风险类型：* 资源不足\n影响范围：联调推迟 3 天\n- 应对方案: 申请外包支持\n等级：高\n触发条件：环境未就绪"
    reading = read(body)
    assert reading is not None and reading.warning == RiskWarning(
        kind="资源不足",
        impact="联调推迟 3 天",
        plan="申请外包支持",
        level="高",
        trigger="环境未就绪",
    )


def test_english_labels_and_a_level_in_any_case() -> None:
    body = "Risk warning\nType: staff\nImpact: two days late\nPlan: hire\nLevel: HIGH"
    reading = read_warning(body, ["high", "medium", "low"], "medium")
    assert reading is not None and reading.warning is not None
    assert reading.warning.level == "high" and reading.warning.trigger == ""


def test_no_level_takes_the_default() -> None:
    reading = read("风险预警\n类型：a\n影响：b\n应对：c")
    assert reading is not None and reading.warning is not None and reading.warning.level == "中"


@pytest.mark.parametrize(
    ("body", "missing", "unknown"),
    [
        ("风险预警\n类型：a\n影响：b", ("plan",), None),
        ("风险预警", ("kind", "impact", "plan"), None),
        ("风险预警\n类型：a\n影响：b\n应对：c\n等级：极高", (), "极高"),
        ("风险预警\n类型：\n影响：b\n应对：c", ("kind",), None),
    ],
)
def test_what_a_warning_lacks_is_named(
    body: str, missing: tuple[str, ...], unknown: str | None
) -> None:
    reading = read(body)
    assert reading is not None and reading.warning is None
    assert reading.missing == missing and reading.unknown_level == unknown


@pytest.mark.parametrize(
    "body",
    [
        "我们有个风险预警：类型：a",  # the first line must start with it
        "{quote}风险预警\n类型：a\n影响：b\n应对：c{quote}\n同意",  # someone else's words
        "类型：a\n影响：b\n应对：c",
        "",
    ],
)
def test_other_comments_are_no_warning(body: str) -> None:
    assert not is_warning(body) and read(body) is None
