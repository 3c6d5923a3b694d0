"""One place composes the rules: their routers, periodic work, tables, wording and sections."""

from __future__ import annotations

from pathlib import Path

import pytest

import plugin.rules
from plugin.composition import RULES, build_router, compose, parse_rules, rules_model
from plugin.composition import rules as composed_rules
from plugin.process.config import Rules, Section, rules_with
from plugin.rules.cadence import cadence
from plugin.rules.escalation import escalation
from plugin.rules.minutes import minutes
from plugin.rules.minutes.config import meeting_rules
from plugin.rules.ownership import ownership, stage_gate
from plugin.rules.reports import mirror, snapshots, weekly
from plugin.rules.trees import trees
from plugin.spine.context import Context
from plugin.spine.events import JiraEvent
from plugin.spine.store import metadata
from tests.fakes import RULES_FILE as SHIPPED
from tests.fakes import FakeJira, load_default_rules


def test_every_rule_router_is_composed() -> None:
    router = build_router()
    for event in ("jira:issue_created", "jira:issue_updated"):
        assert router.handles(event)
        for rule in (trees, ownership, stage_gate, escalation, minutes, mirror):
            mine = set(rule.router._routes.get((event, None), []))
            assert mine <= set(router._routes[(event, None)])


def test_every_declared_table_is_listed_so_none_is_forgotten() -> None:
    listed = {table.name for table in compose().tables}
    assert listed == set(metadata.tables)  # importing the rules declared nothing unlisted
    assert {"deliveries", "jira_site", "notices", "audit", "tree_requests", "tree_items"} <= listed


def test_the_schedule_holds_every_rules_periodic_work() -> None:
    expected = {
        task.name
        for rule in (
            trees,
            ownership,
            stage_gate,
            escalation,
            minutes,
            weekly,
            mirror,
            snapshots,
            cadence,
        )
        for task in rule.schedule
    }
    assert {task.name for task in compose().schedule} == expected


def test_each_rule_folder_joins_by_its_name_alone() -> None:
    """A rule is a folder with a rule.py; naming it in RULES is all it takes to join."""
    folders = sorted(
        path.name
        for path in (Path(plugin.rules.__file__).parent).iterdir()
        if (path / "rule.py").is_file()
    )
    assert sorted(RULES) == folders
    assert [rule.name for rule in composed_rules()] == list(RULES)


def test_a_rules_section_is_part_of_the_rules_file_and_read_back_typed() -> None:
    rules = load_default_rules()
    meetings = meeting_rules(rules)
    assert meetings is not None and meetings.issue_type == "会议"
    assert "meetings" in rules_model().model_fields and "reports" in rules_model().model_fields
    assert "meetings" not in Rules.model_fields  # the shared part knows no rule's section


def test_a_rules_file_without_a_rules_section_gets_its_default() -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    without = text[: text.index("\nmeetings:")] + "\n"
    rules = parse_rules(without, "rules.yaml")
    assert meeting_rules(rules) is None


def test_two_rules_cannot_claim_the_same_key_of_the_rules_file() -> None:
    clash = Section("jira", dict, {}, "a rule's section named like a shared one")
    with pytest.raises(ValueError, match="'jira'"):
        rules_with(clash)
    twice = Section("weekly_digest", dict, {}, "two rules wanting one key")
    with pytest.raises(ValueError, match="'weekly_digest'"):
        rules_with(twice, twice)


def test_the_composed_router_admits_only_projects_under_enforcement() -> None:
    """The project is checked once, by the router, before any rule reads anything."""
    rules = load_default_rules()
    jira = FakeJira()
    context = Context(rules=rules, jira=jira, store=None, clock=lambda: None)  # type: ignore[arg-type,return-value]
    change = {"items": [{"field": "status", "fromString": "未开始", "toString": "进行中"}]}

    def event(key: str) -> JiraEvent:
        project = key.split("-")[0]
        issue = {"key": key, "fields": {"project": {"key": project}, "issuetype": {"name": "Task"}}}
        return JiraEvent.model_validate(
            {"webhookEvent": "jira:issue_updated", "issue": issue, "changelog": change}
        )

    router = compose().router
    assert router.dispatch(event("HR-7"), context) == 0
    assert sum(jira.calls.values()) == 0
    assert "XD" in rules.jira.projects and router.admits is not None
    assert router.admits(event("XD-7"), context)
    # A Data Center comment event names its issue by id only: its handler reads the project.
    assert router.admits(JiraEvent.model_validate({"webhookEvent": "comment_created"}), context)


def test_each_rule_brings_its_demo_scene_and_the_demo_plays_them_in_the_rules_order() -> None:
    """A rule's scene module is named like its folder; RULES alone puts it in the demo."""
    from demo.scenes import SCENES, rule_scenes

    played = [scene for rule in RULES for scene in rule_scenes(rule)]
    assert played and all(rule_scenes(rule) for rule in RULES)
    assert list(SCENES[-len(played) :]) == played
