"""crossdept's marks in Jira: which issues are requests, which are items, what a tree record says."""

from __future__ import annotations

import pytest

from plugin.process.items import (
    ITEM_PROPERTY,
    TREE_PROPERTY,
    ItemMark,
    RecordedTree,
    in_projects,
    item_mark,
    may_be_request,
    read_tree_record,
)
from plugin.spine.events import parse_event
from tests.fakes import load_default_rules

RULES = load_default_rules()


@pytest.mark.parametrize(
    ("key", "fields", "project", "is_request"),
    [
        ("XD-1", {"issuetype": {"name": "跨部门协作需求"}}, True, True),
        ("XD-2", {"issuetype": {"name": "Task"}}, True, False),
        ("XD-3", {}, True, True),  # no type in the payload: re-read from Jira decides
        ("OPS-1", {"issuetype": {"name": "跨部门协作需求"}}, False, False),
        ("OPS-2", {"project": {"key": "XD"}}, True, True),  # the payload's project wins
    ],
)
def test_requests_and_projects_are_told_from_the_payload(
    key: str, fields: dict[str, object], project: bool, is_request: bool
) -> None:
    parsed = parse_event(
        {"webhookEvent": "jira:issue_created", "issue": {"key": key, "fields": fields}}
    )
    assert in_projects(parsed, RULES) is project
    assert may_be_request(parsed, RULES) is is_request


def test_an_item_mark_needs_both_request_and_ref() -> None:
    assert item_mark({"properties": {ITEM_PROPERTY: {"request": "XD-1", "ref": "s1"}}}) == ItemMark(
        "XD-1", "s1"
    )
    assert item_mark({"properties": {ITEM_PROPERTY: {"request": "XD-1"}}}) is None
    assert item_mark({"properties": {ITEM_PROPERTY: "junk"}}) is None
    assert item_mark({"key": "XD-2"}) is None


def test_a_tree_record_reads_items_deleted_items_and_the_summary_comment() -> None:
    issue = {
        "properties": {
            TREE_PROPERTY: {
                "version": 1,
                "items": {"s1": "XD-2"},
                "deleted": {"s6": "XD-7"},
                "comment": {"id": 10001, "digest": "abc"},
            }
        }
    }
    assert read_tree_record(issue) == RecordedTree({"s1": "XD-2"}, {"s6": "XD-7"}, "10001", "abc")


@pytest.mark.parametrize("junk", [None, "text", {"items": ["XD-2"]}, {"comment": "x"}])
def test_a_malformed_tree_record_reads_as_empty_not_as_an_error(junk: object) -> None:
    record = read_tree_record({"properties": {TREE_PROPERTY: junk}})
    assert record.items == {} and record.comment_id is None
