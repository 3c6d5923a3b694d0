"""The stage gate's pure parts: stages of refs, status changes, and what blocks an item."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from plugin.process.items import stage_of
from plugin.rules.ownership.stage_gate import blocking_items, status_change
from plugin.spine.events import parse_event
from tests.fakes import load_default_rules

if TYPE_CHECKING:
    from tests.rules.ownership.test_ownership import World

RULES = load_default_rules()


@pytest.mark.parametrize(
    ("ref", "stage"),
    [("s3", 3), ("s3.d1", 3), ("s12.d2.技术部", 12), ("epic", None), ("s", None), ("x3", None)],
)
def test_the_stage_of_a_ref(ref: str, stage: int | None) -> None:
    assert stage_of(ref) == stage


def test_a_status_change_is_read_from_the_changelog() -> None:
    moved = parse_event(
        {
            "webhookEvent": "jira:issue_updated",
            "changelog": {
                "items": [{"field": "status", "fromString": "未开始", "toString": "进行中"}]
            },
        }
    )
    edited = parse_event(
        {"webhookEvent": "jira:issue_updated", "changelog": {"items": [{"field": "summary"}]}}
    )
    assert status_change(moved) == ("未开始", "进行中")
    assert status_change(edited) is None


def test_only_open_items_of_earlier_stages_block_in_stage_order() -> None:
    def hit(key: str, status: str, category: str) -> dict[str, object]:
        return {
            "key": key,
            "fields": {
                "summary": key,
                "status": {"name": status, "statusCategory": {"key": category}},
            },
        }

    hits = [
        hit("XD-12", "进行中", "indeterminate"),
        hit("XD-3", "未开始", "new"),
        hit("XD-2", "已完成", "done"),
        hit("XD-9", "未开始", "new"),
    ]
    refs = {"XD-2": "s1", "XD-3": "s2", "XD-9": "s1.d2.技术部", "XD-12": "s2.d1"}
    blocking = blocking_items(hits, refs, RULES)
    assert [(stage, item["key"]) for stage, item in blocking] == [
        (1, "XD-9"),
        (2, "XD-3"),
        (2, "XD-12"),
    ]


# -- the rule against the shared fake ---------------------------------------------------------

STARTED = {"name": "进行中", "statusCategory": {"key": "indeterminate"}}


def start(world: World, ref: str) -> None:
    from plugin.rules.ownership.stage_gate import router
    from tests.fakes import issue_event

    key = world.keys[ref]
    issue = world.jira.edit(key, status=STARTED)
    changelog = {
        "items": [
            {"field": "status", "fieldId": "status", "fromString": "未开始", "toString": "进行中"}
        ]
    }
    router.dispatch(
        parse_event(issue_event(issue, "jira:issue_updated", changelog=changelog)), world.context()
    )


@pytest.mark.parametrize(
    ("mode", "moved_back", "says"),
    [
        ("revert", True, "crossdept 已把它移回"),
        ("warn", False, "本任务还不应开始。"),
        ("off", False, None),
    ],
)
def test_each_mode_of_the_gate(
    tmp_path: object, mode: str, moved_back: bool, says: str | None
) -> None:
    world = gate_world(tmp_path, mode)
    start(world, "s3")
    status = world.jira.issues[world.keys["s3"]]["fields"]["status"]["name"]
    assert (status == "未开始") is moved_back
    comments = world.comments("s3")
    if says is None:
        assert comments == []
    else:
        [comment] = comments
        assert says in comment


def test_a_workflow_with_no_way_back_gets_a_warning_that_says_so(tmp_path: object) -> None:
    world = gate_world(tmp_path, "revert")
    world.jira.unreachable_statuses.add("未开始")
    start(world, "s3")
    [comment] = world.comments("s3")
    assert "工作流中没有回到“未开始”的转换" in comment


def gate_world(tmp_path: object, mode: str) -> World:
    from pathlib import Path

    from plugin.spine.store import Store
    from tests.fakes import ALL_TABLES
    from tests.rules.ownership.test_ownership import World

    store = Store(f"sqlite:///{Path(str(tmp_path)) / 'gate.db'}")
    store.create_all(ALL_TABLES)
    rules = RULES.model_copy(
        update={"ownership": RULES.ownership.model_copy(update={"stage_gate": mode})}
    )
    return World(store, rules)
