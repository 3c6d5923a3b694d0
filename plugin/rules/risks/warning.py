"""A risk warning as an owner writes it in a comment, read purely.

Seed 001: an owner who expects a delay or sees a risk sends a 《风险预警表》 at least 24 hours
before the due date, saying the risk's type, its impact and a proposed solution; seeds 002 and
004 add its level (高/中/低) and the condition that triggers the response. In Jira the owner
writes it as a comment on their item, a field per line:

    风险预警
    类型：资源不足
    影响：联调推迟 3 天
    应对：申请外包支持
    等级：高
    触发：12 月 5 日前测试环境未就绪

(in English: `Risk warning`, `Type:`, `Impact:`, `Plan:`, `Level:`, `Trigger:`). Quoted and
code blocks are someone else's words and are not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from plugin.process.mentions import own_words

HEADING = re.compile(r"^(?:h\d\.\s*)?[*_]*\s*(风险预警|risk\s+warning)\b", re.IGNORECASE)
LABELS = {
    "kind": ("风险类型", "类型", "type", "risk type"),
    "impact": ("影响范围", "影响", "impact"),
    "plan": (
        "建议解决方案",
        "解决方案",
        "应对方案",
        "应对措施",
        "应对",
        "plan",
        "solution",
        "measures",
    ),
    "level": ("风险等级", "等级", "level"),
    "trigger": ("触发条件", "触发", "trigger"),
}
REQUIRED = ("kind", "impact", "plan")
# A field line: an optional list marker, the label (perhaps bold), a colon, the value.
FIELD = re.compile(r"^(?:[-*#]+\s+)?[*_]*\s*([^:：*_]{1,20}?)\s*[*_]*\s*[:：]\s*[*_]*\s*(.*?)\s*$")


@dataclass(frozen=True)
class RiskWarning:
    """What the owner said: the risk's type, impact, plan, level and trigger."""

    kind: str
    impact: str
    plan: str
    level: str
    trigger: str = ""


@dataclass(frozen=True)
class Reading:
    """A comment read as a risk warning: the warning, or what it lacks."""

    warning: RiskWarning | None
    missing: tuple[str, ...] = ()  # of REQUIRED, in order
    unknown_level: str | None = None  # a level the rules do not know


def is_warning(body: str) -> bool:
    """Whether a comment is meant as a risk warning: its first line of its own words says so."""
    lines = [line.strip() for line in own_words(body).splitlines() if line.strip()]
    return bool(lines) and HEADING.match(lines[0]) is not None


def _field(label: str) -> str | None:
    wanted = label.strip().casefold()
    for name, labels in LABELS.items():
        if wanted in labels:
            return name
    return None


def read_warning(body: str, levels: list[str], default_level: str) -> Reading | None:
    """Read a risk warning from a comment; None when the comment is not one."""
    if not is_warning(body):
        return None
    found: dict[str, str] = {}
    for line in own_words(body).splitlines():
        matched = FIELD.match(line.strip())
        if matched is None:
            continue
        name = _field(matched.group(1))
        if name is not None and matched.group(2) and name not in found:
            found[name] = matched.group(2)
    missing = tuple(name for name in REQUIRED if not found.get(name))
    level = found.get("level", default_level)
    known = {candidate.casefold(): candidate for candidate in levels}
    if level.casefold() not in known:
        return Reading(None, missing, unknown_level=level)
    if missing:
        return Reading(None, missing)
    warning = RiskWarning(
        kind=found["kind"],
        impact=found["impact"],
        plan=found["plan"],
        level=known[level.casefold()],
        trigger=found.get("trigger", ""),
    )
    return Reading(warning)
