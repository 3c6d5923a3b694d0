"""One place composes the rules: their routers, their periodic work and the tables they keep."""

from __future__ import annotations

from plugin.composition import build_router, compose
from plugin.rules.escalation import escalation
from plugin.rules.minutes import minutes
from plugin.rules.ownership import ownership, stage_gate
from plugin.rules.reports import weekly
from plugin.rules.trees import trees
from plugin.spine.store import metadata


def test_every_rule_router_is_composed() -> None:
    router = build_router()
    for event in ("jira:issue_created", "jira:issue_updated"):
        assert router.handles(event)
        for rule in (trees, ownership, stage_gate, escalation, minutes):
            mine = set(rule.router._routes.get((event, None), []))
            assert mine <= set(router._routes[(event, None)])


def test_every_declared_table_is_listed_so_none_is_forgotten() -> None:
    listed = {table.name for table in compose().tables}
    assert listed == set(metadata.tables)  # importing the rules declared nothing unlisted
    assert {"deliveries", "jira_site", "notices", "audit", "tree_requests", "tree_items"} <= listed


def test_the_schedule_holds_every_rules_periodic_work() -> None:
    expected = {
        task.name
        for rule in (trees, ownership, stage_gate, escalation, minutes, weekly)
        for task in rule.schedule
    }
    assert {task.name for task in compose().schedule} == expected
