"""`crossdept report departments`: the board's figures from Jira and the store, three formats."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from plugin.spine.leases import Leases
from plugin.spine.store import Store
from webhooks.cli import cli

RULES = "config/rules.yaml"
CLOUD_SEED = "sandbox/seeds/cloud.yaml"
DC_SEED = "sandbox/seeds/datacenter.yaml"


@pytest.fixture(params=["cloud", "datacenter"])
def site_env(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> bool:
    """crossdept's environment for the sandbox as Jira Cloud or as Jira Data Center; True on Cloud."""
    from demo.harness import rules_for_data_center
    from sandbox.app import DEFAULT_DC_CONFLUENCE_URL
    from sandbox.seed import load_seed
    from tests.rules.trees.test_trees import SANDBOX_CLOUD, SANDBOX_DC

    cloud = request.param == "cloud"
    environ = {
        "CROSSDEPT_DATA_DIR": str(tmp_path / "data"),
        "CROSSDEPT_ALLOW_UNSIGNED": "true",
    }
    if cloud:
        environ |= {
            "CROSSDEPT_JIRA_URL": SANDBOX_CLOUD,
            "CROSSDEPT_MARK_KEY": "test-mark-key-not-in-jira",
            "CROSSDEPT_JIRA_EMAIL": "crossdept@example.com",
            "CROSSDEPT_JIRA_API_TOKEN": "t",
            "CROSSDEPT_CONFLUENCE_URL": SANDBOX_CLOUD + "/wiki",
            "CROSSDEPT_RULES": RULES,
        }
    else:
        rules = tmp_path / "rules-dc.yaml"
        text = Path(RULES).read_text(encoding="utf-8")
        rules.write_text(rules_for_data_center(text, load_seed(DC_SEED)), encoding="utf-8")
        environ |= {
            "CROSSDEPT_JIRA_URL": SANDBOX_DC,
            "CROSSDEPT_MARK_KEY": "test-mark-key-not-in-jira",
            "CROSSDEPT_JIRA_PAT": "sandbox-pat-crossdept",
            "CROSSDEPT_CONFLUENCE_URL": DEFAULT_DC_CONFLUENCE_URL,
            "CROSSDEPT_RULES": str(rules),
        }
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return cloud


@contextmanager
def request_with_tree(cloud: bool) -> Iterator[tuple[Any, Any, str]]:
    """A sandbox (Cloud or Data Center) holding a request whose tree `crossdept apply` built:
    (sandbox, requester, key)."""
    from sandbox.app import installed_sandbox
    from tests.fakes import ManualClock
    from tests.rules.trees.test_trees import (
        REQUEST_FIELDS,
        SANDBOX_CLOUD,
        SANDBOX_DC,
        sandbox_gateways,
    )

    seed = CLOUD_SEED if cloud else DC_SEED
    url = SANDBOX_CLOUD if cloud else SANDBOX_DC
    with installed_sandbox(seed, clock=ManualClock(), jira_url=url) as sandbox:
        requester, _bot = sandbox_gateways(cloud)
        key = requester._call("POST", "/rest/api/2/issue", body={"fields": REQUEST_FIELDS}).json()[
            "key"
        ]
        assert CliRunner().invoke(cli, ["apply", key]).exit_code == 0
        yield sandbox, requester, key


def test_a_tree_whose_dates_have_passed_shows_every_item_delayed_per_department(
    site_env: bool,
) -> None:
    with request_with_tree(site_env) as (sandbox, requester, key):
        before = CliRunner().invoke(cli, ["report", "departments"])
        rebuilt = CliRunner().invoke(cli, ["mirror", "rebuild"])
        status = CliRunner().invoke(cli, ["mirror", "status"])
        calls = len(sandbox.calls)
        as_json = CliRunner().invoke(cli, ["report", "departments", "--format", "json"])
        as_csv = CliRunner().invoke(cli, ["report", "departments", "--format", "csv"])
        as_table = CliRunner().invoke(cli, ["report", "departments", "--request", key])
        reports_asked_jira = len(sandbox.calls) - calls

    # Figures before the mirror has read Jira would be zeros nobody counted: refused, with the way.
    assert before.exit_code == 1 and "crossdept mirror rebuild" in before.output
    assert rebuilt.output == "mirror rebuilt: 35 items read from Jira\n", rebuilt.output
    assert status.output.splitlines()[0] == "items: 35" and "never" not in status.output
    assert reports_asked_jira == 0  # the store counts; Jira is not asked
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    rows = {row["department"]: row for row in data["departments"]}
    # The requester's and the PM's stages count to the request's 需求部门 (市场部): no "(none)" row.
    assert list(rows) == ["市场部", "技术部", "产品部", "财务部"]
    # The tree starts 2026-03-02 and nothing is done: every item is past due (the CLI runs on
    # today's date), so each department's on-time rate is a known 0%, not unknown.
    assert sum(row["items"] for row in rows.values()) == 35
    assert all(row["delayed"] == row["items"] for row in rows.values())
    assert all(row["not_started"] == row["in_progress"] == 0 for row in rows.values())
    assert all(row["on_time_rate"] == 0.0 for row in rows.values() if row["items"])
    assert all(row["median_hours"] is None for row in rows.values())  # nobody was asked
    assert len(data["delayed"]) == 35 and data["delayed"][0]["days_late"] > 100
    assert [r["stages"] for r in data["requests"]] == [6]
    # Each collaborating department supports the requester's 5 stages and 4 deliverables of
    # the requester's and the PM's (配合部门, from the marks): open items, all 9.
    assert {name: row["supporting"] for name, row in rows.items()} == {
        "市场部": 0,
        "技术部": 9,
        "产品部": 9,
        "财务部": 9,
    }

    lines = as_csv.output.splitlines()
    assert lines[0].startswith(
        "department,items,done_on_time,done_late,not_started,in_progress,delayed,on_time_rate"
    )
    # No median, no p90: empty, not 0; no escalation; 市场部 leads, so it supports nothing.
    assert lines[1].split(",")[-4:] == ["", "", "0", "0"]

    table = as_table.output.splitlines()
    assert table[0].split()[:3] == ["DEPARTMENT", "ITEMS", "ON"]
    assert "0%" in table[1] and "—" in table[1]


def test_the_weekly_page_is_published_once_and_updated_in_place(
    site_env: bool, tmp_path: Path
) -> None:
    with request_with_tree(site_env) as (sandbox, requester, key):
        preview = tmp_path / "weekly.html"
        previewed = CliRunner().invoke(cli, ["report", "weekly", key, "--preview", str(preview)])
        titles_after_preview = sandbox.confluence.titles("XD")  # type: ignore[union-attr]
        first = CliRunner().invoke(cli, ["report", "weekly", key])
        stage = requester.get_issue_property(key, "crossdept.tree")["items"]["s1"]
        requester.add_comment(stage, "原因：需求方案反复修改\n措施：本周五前冻结需求")
        second = CliRunner().invoke(cli, ["report", "weekly", key])
        third = CliRunner().invoke(cli, ["report", "weekly", key])
        pages = [t for t in sandbox.confluence.titles("XD") if t.endswith("项目进度跟踪表")]  # type: ignore[union-attr]
        page = sandbox.confluence.find_page("XD", pages[0])  # type: ignore[union-attr]
        [request_title] = [t for t in sandbox.confluence.titles("XD") if t.startswith(f"{key} ")]  # type: ignore[union-attr]
        request_page = sandbox.confluence.find_page("XD", request_title)  # type: ignore[union-attr]
        above = sandbox.confluence.find_page("XD", "项目进度跟踪")  # type: ignore[union-attr]
        stage_comments = [c["body"] for c in requester.list_comments(stage)]
        access = {
            title: sandbox.confluence.restrictions("XD", title)  # type: ignore[union-attr]
            for title in (pages[0], request_title)
        }
        seen_by = {
            login: sandbox.confluence.may_view("XD", pages[0], login)  # type: ignore[union-attr]
            for login in ("engineering.contact", "pm", "director", "crossdept")
        }
        assert sandbox.violations == []

    assert previewed.exit_code == 0, previewed.output
    assert "35 delayed" in previewed.output and titles_after_preview == ["跨部门协作 Home"]
    shown = preview.read_text(encoding="utf-8")
    assert "项目进度跟踪表" in shown
    assert "Example Engineering Head (技术部负责人)" in shown  # owners by name, not account id
    # Supporting departments, as crossdept's sealed mark recorded them at creation.
    assert "<th>配合部门</th>" in shown and "<td>技术部、产品部、财务部</td>" in shown
    assert first.exit_code == 0, first.output
    assert "(version 1)" in first.output and "asked 35 owners for the reason" in first.output
    assert "(version 2)" in second.output and "asked" not in second.output
    assert "(version 2)" in third.output  # nothing changed: no new version
    assert len(pages) == 1 and page["properties"]["crossdept.report"]["request"] == key
    # Its own parent (reports.weekly.parent_page), apart from the minutes' pages.
    assert page["parentId"] == request_page["id"] and request_page["parentId"] == above["id"]
    assert "需求方案反复修改" in page["body"] and "本周五前冻结需求" in page["body"]
    assert sum("请说明延期原因与措施" in body for body in stage_comments) == 1
    # Seed 004: the collaborating departments read, the lead department (市场部) edits; crossdept
    # keeps its own access and the PM theirs; anyone else does not see the pages.
    for restricted in access.values():
        assert restricted == {
            "read": {
                "groups": ["产品部", "市场部", "技术部", "财务部"],
                "people": ["crossdept", "pm"],
            },
            "update": {"groups": ["市场部"], "people": ["crossdept", "pm"]},
        }
    assert seen_by == {
        "engineering.contact": True,
        "pm": True,
        "director": False,
        "crossdept": True,
    }


def test_the_scheduled_run_publishes_each_active_request_once_a_week(site_env: bool) -> None:
    with request_with_tree(site_env) as (sandbox, requester, key):
        run = ["periodic", "publish_weekly_reports", "--now"]
        early = CliRunner().invoke(cli, [*run, "2026-03-13T08:00:00+00:00"])  # Fri 16:00 there
        # Another worker's run holds the week's lease: this one leaves the pages to it.
        other = Leases(Store(f"sqlite:///{os.environ['CROSSDEPT_DATA_DIR']}/crossdept.db"))
        moment = datetime(2026, 3, 13, 9, 30, tzinfo=UTC).timestamp()
        assert other.take("publish_weekly_reports", "weekly-2026-W11", moment, 60)
        busy = CliRunner().invoke(cli, [*run, "2026-03-13T09:30:00+00:00"])
        other.give_back("publish_weekly_reports", "weekly-2026-W11")
        first = CliRunner().invoke(cli, [*run, "2026-03-13T09:30:00+00:00"])
        again = CliRunner().invoke(cli, [*run, "2026-03-13T10:30:00+00:00"])
        pages = [t for t in sandbox.confluence.titles("XD") if t.endswith("项目进度跟踪表")]  # type: ignore[union-attr]

    assert "not the time" in early.output, early.output
    assert "another worker is running publish_weekly_reports" in busy.output, busy.output
    assert "1 weekly pages published for 2026-W11" in first.output, first.output
    assert "0 weekly pages published for 2026-W11" in again.output
    assert len(pages) == 1


def test_the_assessment_keeps_each_period_once_and_reports_it_against_the_baseline(
    site_env: bool,
) -> None:
    with request_with_tree(site_env):
        none_yet = CliRunner().invoke(cli, ["report", "assessment"])
        CliRunner().invoke(cli, ["mirror", "rebuild"])
        run = ["periodic", "take_assessment_snapshot", "--now"]
        kept = CliRunner().invoke(cli, [*run, "2026-03-16T02:00:00+00:00"])  # Monday, 10:00
        again = CliRunner().invoke(cli, [*run, "2026-03-16T03:00:00+00:00"])
        as_json = CliRunner().invoke(cli, ["report", "assessment", "--format", "json"])
        as_csv = CliRunner().invoke(cli, ["report", "assessment", "--format", "csv"])
        later = CliRunner().invoke(cli, ["report", "assessment", "--since", "2026-03-20"])

    assert (
        none_yet.output
        == "No snapshot kept yet: the first is kept the day after the worker starts.\n"
    )
    assert "kept 2026-03-02..2026-03-15 (4 departments)" in kept.output, kept.output
    assert "no period due" in again.output
    data = json.loads(as_json.output)
    assert data["weight"] == 15 and data["targets"] == {"on_time_rate": 45.0, "median_hours": -30.0}
    rows = {row["department"]: row for row in data["rows"]}
    assert list(rows) == ["市场部", "技术部", "产品部", "财务部"]
    # The tree starts 2026-03-02 and nothing is done: stages 1 and 2 (due by 03-10) are delayed.
    for row in rows.values():
        assert row["start"] == "2026-03-02" and row["end"] == "2026-03-15"
        assert row["on_time_rate"] == 0.0 and row["contribution"] == 0.0
        assert row["baseline_rate"] == 0.0 and row["rate_met"] is False  # 0% is no rise
    assert data["stars"] == [{"start": "2026-03-02", "end": "2026-03-15", "candidates": []}]
    assert as_csv.output.splitlines()[0].startswith("start,end,department,on_time_rate,")
    assert later.output.startswith("No snapshot kept yet")  # none ends on or after 03-20


def test_a_request_without_a_tree_gets_no_weekly_page(site_env: bool) -> None:
    from sandbox.app import installed_sandbox
    from tests.fakes import ManualClock
    from tests.rules.trees.test_trees import (
        REQUEST_FIELDS,
        SANDBOX_CLOUD,
        SANDBOX_DC,
        sandbox_gateways,
    )

    seed = CLOUD_SEED if site_env else DC_SEED
    url = SANDBOX_CLOUD if site_env else SANDBOX_DC
    with installed_sandbox(seed, clock=ManualClock(), jira_url=url) as sandbox:
        requester, _bot = sandbox_gateways(site_env)
        body = {"fields": REQUEST_FIELDS}
        key = requester._call("POST", "/rest/api/2/issue", body=body).json()["key"]
        refused = CliRunner().invoke(cli, ["report", "weekly", key])
        titles = sandbox.confluence.titles("XD")  # type: ignore[union-attr]

    assert refused.exit_code == 1
    assert f"{key}: it has no tree, so nothing to report" in refused.output
    assert titles == ["跨部门协作 Home"]


def test_asks_name_the_people_and_who_each_next_step_goes_to(site_env: bool) -> None:
    from plugin.process.asks import Asks
    from webhooks.service import Service
    from webhooks.settings import load_settings

    with request_with_tree(site_env) as (_sandbox, _requester, key):
        service = Service(load_settings(require_webhook=False))
        engineering = service.rules.departments["技术部"]
        requester = service.rules.departments["市场部"].contact
        Asks(service.store).open(
            issue=key,
            asked=engineering.contact,
            asked_by=requester,
            source="mention",
            source_id="c1",
            asked_at=0.0,
            next_due=1.0,
            department="技术部",
        )
        table = CliRunner().invoke(cli, ["asks"])
        listed = json.loads(CliRunner().invoke(cli, ["asks", "--json"]).stdout)
        swept = CliRunner().invoke(cli, ["sweep", "--dry-run"])

    assert table.exit_code == 0, table.output
    contact = "Example Engineering Contact (技术部接口人)"
    assert f" → {contact}  since " in table.stdout
    assert f"next: reminder to asked ({contact}) at " in table.stdout
    assert engineering.contact not in table.stdout and requester not in table.stdout  # people
    [row] = listed
    assert (row["asked"], row["next_to"]) == (engineering.contact, engineering.contact)  # ids
    assert row["asked_name"] == contact
    # Asked long ago: the sweep jumps to the last rung, and says whom it reaches by name.
    said = f"would: {key} ask {row['id']}: escalation to pm, Example Project Manager (项目经理)"
    assert said in swept.stdout, swept.output
