"""`crossdept plan` previews a tree offline; `crossdept apply` builds one in Jira."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.fakes import HEADS, REPO, issue_event, request_issue
from webhooks.cli import cli

RULES = str(REPO / "config" / "rules.yaml")


def event_file(tmp_path: Path, **request: object) -> str:
    path = tmp_path / "event.json"
    path.write_text(
        json.dumps(issue_event(request_issue(**request)), ensure_ascii=False), encoding="utf-8"
    )  # type: ignore[arg-type]
    return str(path)


def test_plan_prints_an_indented_tree_with_owners_and_dates(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", "--event", event_file(tmp_path), "--rules", RULES])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "XD-1"
    assert (
        lines[1]
        == "  s1  【XD-1 新品推广】阶段1 需求发起与目标对齐  [Task; 市场部 需求提出人; 2026-03-05]"
    )
    assert (
        "    s1.d2.技术部  《合作目标共识函》 — 技术部  [Sub-task; 技术部 负责人; 2026-03-05]"
        in lines
    )


def test_plan_json_has_exactly_the_documented_shape(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["plan", "--event", event_file(tmp_path), "--rules", RULES, "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"request", "issues"}
    assert data["request"] == "XD-1"
    assert len(data["issues"]) == 35
    for issue in data["issues"]:
        assert set(issue) == {
            "ref",
            "parent",
            "issuetype",
            "summary",
            "assignee",
            "duedate",
            "stage",
            "department",
            "supporting",
        }
    signoff = next(i for i in data["issues"] if i["ref"] == "s1.d2.技术部")
    assert signoff["parent"] == "s1" and signoff["assignee"] == HEADS["技术部"]
    assert data["issues"][0]["parent"] == "XD-1"


def test_plan_uses_today_when_the_body_has_no_dates(tmp_path: Path) -> None:
    body = issue_event(request_issue(start=None))
    del body["issue"]["fields"]["created"]
    path = tmp_path / "event.json"
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["plan", "--event", str(path), "--rules", RULES, "--today", "2026-03-09", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["issues"][0]["duedate"] == "2026-03-12"


def test_plan_names_the_problem_and_fails(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["plan", "--event", event_file(tmp_path, departments=("法务部",)), "--rules", RULES]
    )
    assert result.exit_code == 1
    assert "法务部" in result.output


def test_plan_refuses_a_body_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("not json", encoding="utf-8")
    result = CliRunner().invoke(cli, ["plan", "--event", str(path), "--rules", RULES])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_apply_builds_a_tree_in_jira_and_a_second_apply_adds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandbox.app import installed_sandbox
    from tests.fakes import ManualClock
    from tests.rules.trees.test_trees import REQUEST_FIELDS, SANDBOX_CLOUD, sandbox_gateways

    for name, value in {
        "CROSSDEPT_JIRA_URL": SANDBOX_CLOUD,
        "CROSSDEPT_MARK_KEY": "test-mark-key-not-in-jira",
        "CROSSDEPT_JIRA_EMAIL": "crossdept@example.com",
        "CROSSDEPT_JIRA_API_TOKEN": "t",
        "CROSSDEPT_RULES": RULES,
        "CROSSDEPT_DATA_DIR": str(tmp_path / "data"),
        "CROSSDEPT_ALLOW_UNSIGNED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    with installed_sandbox("sandbox/seeds/cloud.yaml", clock=ManualClock(), jira_url=SANDBOX_CLOUD):
        requester, _bot = sandbox_gateways(True)
        key = requester._call("POST", "/rest/api/2/issue", body={"fields": REQUEST_FIELDS}).json()[
            "key"
        ]

        first = CliRunner().invoke(cli, ["apply", key])
        second = CliRunner().invoke(cli, ["apply", key, "--json"])

    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[0].startswith(f"{key}: complete; created 35, 35 in the tree;")
    assert second.exit_code == 0, second.output
    data = json.loads(second.output)
    assert data["status"] == "complete" and data["created"] == []
    # serverInfo at connect, one read of the request, one bulk read confirming its items.
    assert data["jira_calls"] == 3
    assert data["deleted"] == {} and data["forgotten"] == {}


def test_apply_of_a_missing_issue_says_what_jira_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandbox.app import installed_sandbox
    from tests.fakes import ManualClock
    from tests.rules.trees.test_trees import SANDBOX_CLOUD

    monkeypatch.setenv("CROSSDEPT_JIRA_URL", SANDBOX_CLOUD)
    monkeypatch.setenv("CROSSDEPT_MARK_KEY", "test-mark-key-not-in-jira")
    monkeypatch.setenv("CROSSDEPT_JIRA_EMAIL", "crossdept@example.com")
    monkeypatch.setenv("CROSSDEPT_JIRA_API_TOKEN", "t")
    monkeypatch.setenv("CROSSDEPT_RULES", RULES)
    monkeypatch.setenv("CROSSDEPT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CROSSDEPT_ALLOW_UNSIGNED", "true")
    with installed_sandbox("sandbox/seeds/cloud.yaml", clock=ManualClock(), jira_url=SANDBOX_CLOUD):
        result = CliRunner().invoke(cli, ["apply", "XD-404"])
    assert result.exit_code == 1
    assert "XD-404: Jira:" in result.output
    assert "Traceback" not in result.output
