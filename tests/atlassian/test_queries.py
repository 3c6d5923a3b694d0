"""One vocabulary of queries, one meaning: every query finds the same issues in the test fake as
in the sandbox's Jira (through the gateway's JQL), on Cloud and on Data Center, and the JQL the
gateway sends is pinned."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from plugin.atlassian.jira_gateway import JiraGateway
from plugin.atlassian.queries import Children, Items, Query, jql
from tests.e2e.conftest import MakeWorld, World
from tests.fakes import FakeJira

FLAVOURS = pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
READ = ["project", "issuetype", "status", "duedate", "labels", "parent", "issuelinks", "updated"]


def mirror(world: World, gateway: JiraGateway, epic_link: str | None) -> FakeJira:
    """The sandbox's issues, as the gateway reads them, in a fake Jira of the same flavour."""
    fake = FakeJira(cloud=world.flavour.name == "cloud")
    fake.clock = world.clock.now
    keys = sorted(
        (issue.key for issue in world.sandbox.jira.issues.values()),
        key=lambda key: int(key.split("-")[1]),
    )
    for found in gateway.read_issues(keys, [*READ, *([epic_link] if epic_link else [])]):
        fields = dict(found["fields"])
        fake.add_issue({"key": found["key"], "fields": fields})
        for link in fields.get("issuelinks") or []:
            if "outwardIssue" in link:
                fake.issue_links.append((found["key"], link["outwardIssue"]["key"], "link"))
    return fake


def keys(found: list[dict[str, Any]]) -> list[str]:
    return sorted((str(issue["key"]) for issue in found), key=lambda key: int(key.split("-")[1]))


@FLAVOURS
def test_every_query_finds_the_same_issues_in_the_fake_and_in_the_sandbox(
    make_world: MakeWorld, flavour: str
) -> None:
    world = make_world(flavour)
    request = world.file_request(start="2026-03-02")
    world.settle()
    items = world.item_keys(request)
    gateway = world.service.jira()
    rules = world.service.rules
    epic_link = gateway.epic_link_field(rules.jira.epic_link_field)
    stage, deliverable = rules.jira.issue_types.stage, rules.jira.issue_types.deliverable

    # Variety: one item done, one labelled delayed, one in progress, one stage linked.
    assert gateway.transition_to(items["s1.d1"], "进行中")
    assert gateway.transition_to(items["s1.d1"], "已完成")
    assert gateway.transition_to(items["s6"], "进行中")
    delayed = next(key for ref, key in sorted(items.items()) if ref.startswith("s5.d"))
    gateway.edit_labels(delayed, add=["延期"])
    gateway.link_issues(items["s4"], request)
    world.clock.advance(3600)  # an hour on; then one item changes
    assert gateway.transition_to(items["s2"], "进行中")
    fake = mirror(world, gateway, None if world.flavour.name == "cloud" else epic_link)

    # Data Center's rules give the request an Epic of its own (epic: create), linked to it.
    epic = items.get("epic", request)
    queries: list[Query] = [
        Children((epic,), "epic_child", epic_link),
        Children((items["s1"], items["s2"]), "subtask"),
        Children((request,), "linked_epic"),
        Items(("XD",), (stage, deliverable)),
        Items(("XD",), (deliverable,), due_from=date(2026, 3, 20)),
        Items(("XD",), (stage, deliverable), open_due_by=date(2026, 3, 12), or_label="延期"),
        Items(("XD",), (stage,), open_due_by=date(2026, 3, 12), or_status="进行中"),
        Items(("XD",), (stage, deliverable), updated_within=5),
    ]
    for query in queries:
        in_jira, in_fake = keys(gateway.search(query)), keys(fake.search(query))
        assert in_jira == in_fake, query
    # Not vacuous: each kind of query found something somewhere.
    found = [keys(gateway.search(query)) for query in queries]
    assert all(found)
    linked = sorted({items["s4"], items.get("epic", items["s4"])}, key=lambda k: int(k[3:]))
    assert found[2] == linked  # linked either way round
    assert delayed in found[5] and items["s1.d1"] not in found[5]
    assert items["s6"] in found[6]
    assert found[7] == [items["s2"]]  # changed in the last five minutes, by Jira's clock


def test_the_gateway_sends_one_jql_per_query() -> None:
    due = date(2026, 3, 12)
    assert jql(Children(("XD-2", "XD-3"), "subtask"), cloud=False) == 'parent in ("XD-2", "XD-3")'
    assert jql(Children(("XD-1",), "epic_child"), cloud=True) == 'parent in ("XD-1")'
    assert (
        jql(Children(("XD-1",), "epic_child"), cloud=False, epic_link="customfield_10101")
        == 'cf[10101] in ("XD-1")'
    )
    assert jql(Children(("XD-1",), "linked_epic"), cloud=True) == 'issue in linkedIssues("XD-1")'
    assert jql(Items(("XD",), ("Task",), due_from=due), cloud=True) == (
        'project in ("XD") AND issuetype in ("Task") AND duedate >= "2026-03-12" ORDER BY key'
    )
    assert jql(Items(("XD",), ("Task",), updated_within=7), cloud=True) == (
        'project in ("XD") AND issuetype in ("Task") AND updated >= "-7m" ORDER BY key'
    )
    assert jql(Items(("XD",), ("Task",), open_due_by=due, or_status="延期"), cloud=False) == (
        'project in ("XD") AND issuetype in ("Task") AND '
        '((statusCategory != Done AND duedate <= "2026-03-12") OR status = "延期")'
    )
