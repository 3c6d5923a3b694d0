"""How crossdept writes for people, in both languages: catalogs looked up by `say`.

Rules never build user-visible sentences inline: they name a catalog entry and fill it in, so
every text exists in zh-CN and en side by side and reads as one careful project manager wrote it.
Each rule keeps its own catalog in its folder (`plugin/rules/<rule>/wording.py`); this module
holds what they share and how any catalog is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from plugin.process.config import Rules


class Wording:
    """A catalog in both languages, looked up by `say`; a rule's own catalog falls back to the
    shared one, so each rule keeps its words in its folder and none repeats another's."""

    def __init__(
        self, entries: Mapping[str, Mapping[str, str]], *, shared: Wording | None = None
    ) -> None:
        self.entries = entries
        self.shared = shared

    def text(self, language: str, entry: str) -> str:
        """One entry, unfilled, in a language: the catalog's own, else the shared one's."""
        own = self.entries[language]
        if entry in own:
            return own[entry]
        if self.shared is None:
            raise KeyError(entry)
        return self.shared.text(language, entry)

    def say(self, rules: Rules, entry: str, **values: Any) -> str:
        """Return one entry in the rules' language, filled in."""
        return self.text(rules.language, entry).format(**values)

    def say_in(self, language: str, entry: str, **values: Any) -> str:
        """Return one entry in a language the reader chose (the board's language switch)."""
        return self.text(language, entry).format(**values)


# What every rule may say: who owns what, the escalation label, why an owner is unknown.
SHARED = Wording(
    {
        "zh-CN": {
            "role.head": "{department} 负责人",
            "role.contact": "{department} 接口人",
            "role.requester": "{department} 需求提出人",
            "role.pm": "项目经理",
            "role.decision_maker": "决策人",
            "problem.no_reporter": "本需求没有报告人，无法确定需求提出人：请设置报告人。",
            "problem.no_pm": "未指定项目经理：请填写项目经理字段，或请管理员在规则文件中设置 project_manager。",
            "problem.unknown_owner": "规则中的负责人“{owner}”无法解析（阶段{number}）：请管理员修正规则文件。",
            "ask.label": "crossdept-催办",
            "page.retention": "本页面为跨部门协作记录，保存至少 {years} 年（至 {until}），请勿删除。",
        },
        "en": {
            "role.head": "{department} head",
            "role.contact": "{department} contact",
            "role.requester": "{department} requester",
            "role.pm": "project manager",
            "role.decision_maker": "decision maker",
            "problem.no_reporter": "This request has no reporter, so nobody is its requester: set the reporter.",
            "problem.no_pm": "No project manager is named: fill in the project manager field, or ask an admin to set project_manager in the rules file.",
            "problem.unknown_owner": 'The owner "{owner}" in the rules (stage {number}) cannot be resolved: ask an admin to fix the rules file.',
            "ask.label": "crossdept-escalated",
            "page.retention": "This page is a record of cross-department collaboration, kept at least {years} years (until {until}); please do not delete it.",
        },
    }
)
say = SHARED.say
say_in = SHARED.say_in


# What makes wiki markup come alive: mentions and links ([~x], [a|b]), macros ({quote}), images
# (!x!) and the escape itself. Jira's wiki renderer takes a backslash to mean "this character as
# text"; with `[` and `~` apart, no mention finder sees "[~" either.
# https://jira.atlassian.com/secure/WikiRendererHelpAction.jspa?section=all ("\\X escapes X")
_MARKUP = re.compile(r"([\\\[\]{}|!~^])")
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*):/(/)")


def plain(text: str) -> str:
    """People's words repeated in crossdept's wiki markup, as text: no mention, link, macro or
    image of theirs comes alive in crossdept's comment (nor is anyone pinged by crossdept)."""
    escaped = _MARKUP.sub(r"\\\1", text)
    return _SCHEME.sub(r"\1:\\/\\/", escaped)


def retention(rules: Rules, since: date) -> str | None:
    """What every page crossdept publishes says of how long it is kept (the guides: at least 2
    years), counted from `since`; None when the rules file says nothing is stated."""
    years = rules.confluence.retention_years if rules.confluence else None
    if years is None:
        return None
    try:
        until = since.replace(year=since.year + years)
    except ValueError:  # 29 February into a year without one
        until = since.replace(year=since.year + years, day=28)
    return say(rules, "page.retention", years=years, until=until.isoformat())


def lead_department_name(rules: Rules, value: Any) -> str:
    """The name of a request's requesting department from its field's value (a select option):
    only a department the rules file knows; anything else is no department ("")."""
    key = value.get("value") if isinstance(value, Mapping) else value
    if isinstance(key, str) and key in rules.departments:
        return department_name(rules, key)
    return ""


def department_name(rules: Rules, key: str) -> str:
    """A department's name in the configured language."""
    department = rules.departments.get(key)
    return rules.text(key, department.name_en if department else None)


def join_names(rules: Rules, names: list[str]) -> str:
    """A list of names as the language writes one: 甲、乙 or A, B."""
    return ("、" if rules.language == "zh-CN" else ", ").join(names)


def span_words(rules: Rules, span: timedelta) -> str:
    """A length of time as people say it: whole days, else hours, else minutes."""
    zh = rules.language == "zh-CN"

    def words(count: int, chinese: str, english: str) -> str:
        return f"{count} {chinese}" if zh else f"{count} {english}{'' if count == 1 else 's'}"

    minutes = int(span.total_seconds() // 60)
    if minutes % 60:
        return words(minutes, "分钟", "minute")
    hours = minutes // 60
    if hours and hours % 24 == 0:
        return words(hours // 24, "天", "day")
    return words(hours, "小时", "hour")


def mention(account: str, *, cloud: bool) -> str:
    """Mention a person in wiki markup: [~accountid:...] on Cloud, [~username] on Data Center.

    https://developer.atlassian.com/cloud/jira/platform/apis/document/nodes/mention
    """
    return f"[~accountid:{account}]" if cloud else f"[~{account}]"
