"""Every text crossdept writes exists in both languages, with the same blanks to fill in."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from plugin.composition import compose
from plugin.process.wording import Wording, department_name, join_names, mention, say
from tests.fakes import load_default_rules

WORDINGS = compose().wordings
RULES_FOLDER = Path(__file__).resolve().parents[2] / "plugin" / "rules"


def blanks(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("name", sorted(WORDINGS))
def test_both_languages_have_the_same_entries_with_the_same_blanks(name: str) -> None:
    entries = WORDINGS[name].entries
    assert set(entries["zh-CN"]) == set(entries["en"])
    for entry, chinese in entries["zh-CN"].items():
        assert blanks(chinese) == blanks(entries["en"][entry]), entry


def test_no_catalog_repeats_an_entry_of_another() -> None:
    seen: dict[str, str] = {}
    for name, wording in WORDINGS.items():
        for entry in wording.entries["zh-CN"]:
            assert entry not in seen, f"{entry} is in both {seen.get(entry)} and {name}"
            seen[entry] = name


@pytest.mark.parametrize("rule", sorted(set(WORDINGS) - {"shared"}))
def test_every_entry_a_rule_names_is_in_its_own_catalog_or_the_shared_one(rule: str) -> None:
    wording: Wording = WORDINGS[rule]
    named = {
        found
        for path in (RULES_FOLDER / rule).glob("*.py")
        for found in re.findall(r'say(?:_in)?\([^()"]*"([a-z_]+(?:\.[a-z_]+)*)"', path.read_text())
    }
    assert named, rule
    for entry in sorted(named):
        for language in ("zh-CN", "en"):
            assert wording.text(language, entry), entry


def test_chinese_entries_use_full_width_punctuation() -> None:
    for entry, text in (e for w in WORDINGS.values() for e in w.entries["zh-CN"].items()):
        if entry.startswith(("role.", "tree.summary_stage", "tree.summary_columns")):
            continue
        prose = text.split("|")[0]  # a wiki link's address is not prose
        assert ", " not in prose and "; " not in prose, entry


@pytest.mark.parametrize(
    ("language", "expected"), [("zh-CN", "市场部 负责人"), ("en", "Marketing head")]
)
def test_say_fills_the_entry_in_the_rules_language(language: str, expected: str) -> None:
    rules = load_default_rules(language=language)
    assert say(rules, "role.head", department=department_name(rules, "市场部")) == expected


def test_names_are_joined_as_the_language_writes_lists() -> None:
    assert join_names(load_default_rules(), ["甲", "乙"]) == "甲、乙"
    assert join_names(load_default_rules(language="en"), ["A", "B"]) == "A, B"


def test_mentions_name_cloud_accounts_and_data_center_usernames() -> None:
    assert mention("557058:x", cloud=True) == "[~accountid:557058:x]"
    assert mention("alice", cloud=False) == "[~alice]"


def test_peoples_words_repeated_by_crossdept_stay_text() -> None:
    from plugin.process.mentions import mentioned
    from plugin.process.wording import plain

    words = (
        "请 [~accountid:557058:abc] 看 [方案|https://evil.example/x] {quote}q{quote} !a.png! [~bob]"
    )
    shown = plain(words)

    assert mentioned(shown) == []
    assert "[~" not in shown and "{quote}" not in shown and "https://" not in shown
    assert shown.replace("\\", "") == words.replace("https://", "https:/\u200b/").replace(
        "\u200b", ""
    )
    assert plain("2026年Q1新品X推广（市场部）") == "2026年Q1新品X推广（市场部）"
