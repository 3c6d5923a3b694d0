"""`crossdept demo` runs the real service against the sandbox, tells the story, and cleans up."""

from __future__ import annotations

import json
import shutil
import socket
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from demo.harness import endpoint_of, next_monday
from webhooks.cli import cli

REPO = Path(__file__).resolve().parents[2]
FOUR_DEPARTMENTS = (
    35  # 6 stages + 29 sub-tasks with the shipped rules (see tests/rules/trees/test_trees.py)
)


@pytest.fixture(autouse=True)
def hostile_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Settings a user may have exported for their real Jira: the demo must not use any of them."""
    elsewhere = tmp_path / "user-data"
    monkeypatch.setenv("CROSSDEPT_JIRA_URL", "https://real-company.atlassian.net")
    monkeypatch.setenv("CROSSDEPT_JIRA_EMAIL", "someone@example.com")
    monkeypatch.setenv("CROSSDEPT_DATA_DIR", str(elsewhere))
    monkeypatch.setenv("CROSSDEPT_QUEUE_URL", "redis://127.0.0.1:9/0")
    monkeypatch.chdir(REPO)
    return elsewhere


def run_demo(*arguments: str) -> Any:
    result = CliRunner().invoke(cli, ["demo", *arguments], catch_exceptions=False)
    return result


def is_listening(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((parts.hostname or "", parts.port or 0)) == 0


def assert_the_cloud_summary(summary: dict[str, Any], hostile_environment: Path) -> None:
    """What the Cloud demo's JSON summary (`--json`, `--summary`) holds, run in Chinese."""
    assert summary["flavour"] == "cloud"
    key = summary["request"]["key"]
    assert summary["request"]["departments"] == ["技术部", "产品部", "财务部"]
    assert summary["request"]["requesting_department"] == "市场部"
    assert summary["delivery"]["state"] == "done" and summary["delivery"]["issue"] == key
    assert summary["issue_count"] == len(summary["issues"]) == FOUR_DEPARTMENTS
    by_ref = {issue["ref"]: issue for issue in summary["issues"]}
    assert by_ref["s1"]["parent"] == key
    assert by_ref["s1"]["duedate"] == "2026-03-05"
    assert by_ref["s1.d2.技术部"]["parent"] == by_ref["s1"]["key"]
    assert by_ref["s1.d2.技术部"]["assignee_name"] == "Example Engineering Head (技术部负责人)"
    assert all(issue["assignee"] and issue["duedate"] for issue in summary["issues"])
    assert len({issue["key"] for issue in summary["issues"]}) == FOUR_DEPARTMENTS
    deciders = summary["decision_makers"]  # two named later: their items only, nothing else
    assert sorted((a["ref"][:5], a["owner"]) for a in deciders["added"]) == [
        ("s3.d3", "Example COO (运营总监, 决策人)"),
        ("s3.d3", "Example Director (总监, 决策人)"),
        ("s5.d2", "Example COO (运营总监, 决策人)"),
        ("s5.d2", "Example Director (总监, 决策人)"),
    ]
    assert deciders["tree_after"] == FOUR_DEPARTMENTS + 4
    comment = summary["summary_comment"]
    assert comment["count"] == 1
    assert f"|阶段1 需求发起与目标对齐|{by_ref['s1']['key']}|市场部 需求提出人|" in comment["body"]

    duplicate = summary["duplicate"]
    assert [(a["retry"], a["status"], a["outcome"]) for a in duplicate["answers"]] == [
        (0, 202, "accepted"),
        (1, 200, "duplicate"),
    ]
    assert duplicate["jobs"] == 1
    assert duplicate["issues_in_tree_after"] == FOUR_DEPARTMENTS
    assert duplicate["issues_in_project"] == FOUR_DEPARTMENTS + 1

    own = summary["own_events"]
    assert own["sent"] == own["ignored"] >= FOUR_DEPARTMENTS
    assert own["jobs"] == 0

    calls = summary["jira_calls"]
    assert calls["failed"] == 0
    assert calls["by_endpoint"]["POST /rest/api/2/issue/bulk"] == 2  # stages, then sub-tasks
    assert calls["total"] == sum(calls["by_endpoint"].values()) < 12
    assert "GET /rest/api/2/field" not in calls["by_endpoint"]  # Cloud needs no field list
    ownership = summary["ownership"]
    assert set(ownership["comments"].values()) == {1}  # each broken rule said once
    assert ownership["fixed_comment"].startswith("h4. 已符合协作规则")
    assert ownership["audit"] == [
        "check failed",
        "comment posted",
        "label added",
        "check passed again",
        "comment edited",
        "label removed",
    ]
    escalation = summary["escalation"]
    headings = [c.splitlines()[0].split("：")[0] for c in escalation["comments"]]
    assert headings == ["h4. 提醒回复", "h4. 升级"]  # a reminder, then the head; once each
    assert escalation["head_mentioned"]
    minutes = summary["minutes"]
    assert minutes["version"] == 1 and minutes["title"].endswith("规划会 会议纪要")
    assert minutes["url"].startswith(summary["sandbox_url"] + "/wiki/spaces/XD/pages/")
    assert minutes["decisions"] == ["采用方案 B，按计划启动开发"]
    assert [a["owner"] for a in minutes["actions"]] == [
        "Example Engineering Contact (技术部接口人)",
        "Example Finance Contact (财务部接口人)",
    ]
    assert all(a["key"].startswith("XD-") and a["due"] for a in minutes["actions"])
    board = summary["board"]
    assert (board["status"], board["without_token"]) == (200, 401)
    assert board["url"] == summary["service_url"] + "/board"
    rows = {row["department"]: row for row in board["departments"]}
    assert list(rows) == ["市场部", "技术部", "产品部", "财务部"]  # the requester's are 市场部's
    # Started 2026-03-02, nothing done: every item is delayed, so the rates are a known 0%.
    # The tree, 2 actions, and the 4 decision items, which are the lead (requesting) department's.
    assert sum(row["items"] for row in rows.values()) == FOUR_DEPARTMENTS + 2 + 4
    assert all(row["delayed"] == row["items"] for row in rows.values())
    # One question was asked, and escalated once: nothing else (the minutes' owners, the
    # assignments) started a clock.
    asks = {name: (row["asks"], row["escalations"]) for name, row in rows.items()}
    assert asks == {"市场部": (0, 0), "技术部": (1, 1), "产品部": (0, 0), "财务部": (0, 0)}
    assert summary["spec_violations"] == []

    # Everything it started has stopped, and the user's own settings were left alone.
    assert not is_listening(summary["service_url"])
    assert not is_listening(summary["sandbox_url"])
    assert not hostile_environment.exists()


def test_the_data_center_demo_passes_in_english_on_working_days_after_the_start(
    tmp_path: Path, hostile_environment: Path
) -> None:
    """Data Center and English in one run (each run costs half a minute of CI; Cloud runs in
    Chinese above)."""
    from plugin.composition import load_rules
    from plugin.process.calendar import WorkCalendar

    english = tmp_path / "rules-en.yaml"
    shipped = (REPO / "config" / "rules.yaml").read_text(encoding="utf-8")
    english.write_text(shipped.replace("language: zh-CN", "language: en"), encoding="utf-8")
    result = run_demo("--data-center", "--rules", str(english), "--json", "--start", "2026-03-02")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)

    assert [c.splitlines()[0].split(":")[0] for c in summary["escalation"]["comments"]] == [
        "h4. Waiting for your answer",
        "h4. Escalated",
    ]
    calendar = WorkCalendar.from_rules(load_rules(english).calendar)
    start = date.fromisoformat(summary["request"]["start"])
    meeting_day = date.fromisoformat(summary["minutes"]["title"][:10])
    dues = [date.fromisoformat(a["due"]) for a in summary["minutes"]["actions"]]
    dues += [date.fromisoformat(issue["duedate"]) for issue in summary["issues"]]
    for day in [meeting_day, *dues]:
        assert calendar.is_working_day(day) and day >= start, day

    assert summary["flavour"] == "datacenter"
    # Data Center's rules give the request an Epic of its own (only an Epic can hold the stages).
    assert summary["issue_count"] == FOUR_DEPARTMENTS + 1
    assert summary["summary_comment"]["count"] == 1
    by_ref = {issue["ref"]: issue for issue in summary["issues"]}
    # Data Center names people by username.
    assert by_ref["s1.d2.技术部"]["assignee"] == "engineering.head"
    assert by_ref["s4"]["assignee"] == "pm"
    assert by_ref["epic"]["issuetype"] == "Epic"
    assert by_ref["epic"]["parent"] == summary["request"]["key"]  # linked to the request
    assert by_ref["s1"]["parent"] == by_ref["epic"]["key"]
    assert summary["duplicate"]["jobs"] == 1
    assert summary["own_events"]["ignored"] >= FOUR_DEPARTMENTS
    assert len(summary["minutes"]["actions"]) == 2
    # The epic, then the stages, then the sub-tasks.
    assert summary["jira_calls"]["by_endpoint"]["POST /rest/api/2/issue/bulk"] == 3
    # A question asked in a comment is timed on Data Center too, from its comment-only delivery
    # or its issue_commented companion, once.
    escalation = summary["escalation"]
    # `crossdept asks` names people, not usernames.
    asker, asked = (
        "Example Requester (需求提出人, 市场部)",
        "Example Engineering Contact (技术部接口人)",
    )
    assert f"{asker} → {asked}" in escalation["ask"]
    assert escalation["head_mentioned"] and len(escalation["comments"]) == 2
    group = summary["group_message"]  # the head's DingTalk group heard it, in English too
    assert (group["kind"], group["mobiles"], group["refusals"]) == ("dingtalk", ["13800000003"], 0)
    assert group["text"].startswith("### Escalated: XD-")
    assert not is_listening(summary["service_url"])
    # Without --verbose nothing of it is left, and the user's own settings were left alone.
    assert "data_dir" not in summary and not hostile_environment.exists()


def test_an_invalid_rules_file_is_reported_like_check_config(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text("version: 1\nlanguage: klingon\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["demo", "--rules", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:2: language:" in result.output
    assert "Traceback" not in result.output


def test_a_refused_request_fails_clearly_and_keeps_the_log(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    shipped = (REPO / "config" / "rules.yaml").read_text(encoding="utf-8")
    rules.write_text(shipped.replace("issue_type: 跨部门协作需求", "issue_type: 不存在"), "utf-8")
    result = run_demo("--rules", str(rules))

    assert result.exit_code == 1
    assert "crossdept demo failed: Jira refused the request:" in result.output
    assert "Traceback" not in result.output
    kept = result.output.split("the service log is kept: ")[1].strip()
    assert Path(kept).is_file()
    shutil.rmtree(Path(kept).parent)


def test_calls_are_grouped_by_endpoint() -> None:
    assert endpoint_of("PUT", "/rest/api/2/issue/XD-1/properties/crossdept.tree") == (
        "PUT /rest/api/2/issue/{key}/properties/{name}"
    )
    assert endpoint_of("POST", "/rest/api/2/issue/bulk") == "POST /rest/api/2/issue/bulk"
    assert endpoint_of("GET", "/rest/api/2/issue/10000") == "GET /rest/api/2/issue/{key}"
    assert endpoint_of("GET", "/rest/api/2/project/XD") == "GET /rest/api/2/project/{project}"


def test_a_request_starts_on_the_next_monday_by_default() -> None:
    from datetime import date

    assert next_monday(date(2026, 11, 22)) == date(2026, 11, 23)  # a Sunday
    assert next_monday(date(2026, 11, 23)) == date(2026, 11, 23)  # a Monday


def test_the_cloud_demo_tells_its_story_keeps_the_board_up_and_summarises_in_json(
    tmp_path: Path, hostile_environment: Path
) -> None:
    """One run of the Cloud demo for three things (each run costs half a minute of CI): the
    story a newcomer reads, --keep leaving the board up until Ctrl-C, and the JSON summary."""
    import signal
    import subprocess
    import sys
    import time

    import requests

    written = tmp_path / "summary.json"
    command = ["demo", "--keep", "--verbose", "--start", "2026-03-02", "--summary", str(written)]
    with subprocess.Popen(
        [sys.executable, "-c", "from webhooks.cli import main; main()", *command],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as demo:
        assert demo.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            lines.append(line)
            if line.startswith("Press Ctrl-C") or not line:
                break
        kept = next(line for line in lines if "Kept running" in line)
        board = kept.split(" the board at ")[1].split(",")[0]
        address = next(line.strip() for line in lines if "/board?token=" in line)
        assert requests.get(address, timeout=10).status_code == 200  # token hand-off followed
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=60) == 0, "".join(lines) + demo.stdout.read()
        lines += demo.stdout.read().splitlines(keepends=True)
    assert not is_listening(board)
    assert_the_story_a_newcomer_reads("".join(lines))
    assert_the_cloud_summary(json.loads(written.read_text(encoding="utf-8")), hostile_environment)


def assert_the_story_a_newcomer_reads(text: str) -> None:
    lines = text.splitlines()

    for heading in (
        "1. Started on this machine",
        "2. A collaboration request is filed in Jira",
        "3. Jira's webhook arrives",
        "4. The tree crossdept built under XD-1",
        "5. Jira delivers the same webhook again",
        "6. Loop safety",
        "7. Jira calls crossdept made for XD-1",
        "8. Decision makers: the requester names 2 on XD-1 (决策人)",
        "9. Ownership: the requester breaks two rules",
        "10. Escalation: the requester asks the engineering contact",
        "13. Group message: the engineering head's dingtalk group (技术部群) received",
    ):
        assert any(line.startswith(heading) for line in lines), heading
    assert "   XD-1  2026年Q1新品X推广  (跨部门协作需求)" in lines
    assert "   需求部门 市场部; 协作部门 技术部, 产品部, 财务部; start 2026-03-02" in lines
    assert any("answered 202 accepted" in line for line in lines)
    assert any("answered 200 duplicate" in line for line in lines)
    assert (
        "       XD-10  《合作目标共识函》 — 技术部  — Example Engineering Head (技术部负责人), "
        "due 2026-03-05" in lines
    )
    assert f"   {FOUR_DEPARTMENTS} issues (6 Task, 29 Sub-task); {FOUR_DEPARTMENTS} of them" in text
    assert "ignored; jobs queued for them: 0" in text
    assert any(
        "《验收结论》 — 决策人 2/2  — Example COO (运营总监, 决策人)" in line for line in lines
    )
    assert "   at.atMobiles ['13800000003']; signature checked by the robot; refused: 0" in lines
    # No log noise on the terminal: the service's JSON lines and the request log go to files.
    assert '"level"' not in text and "HTTP/1.1" not in text

    log_line = next(line for line in lines if line.startswith("Service log: "))
    log = Path(log_line.removeprefix("Service log: "))
    try:
        assert "tree built: 35 issues created" in log.read_text(encoding="utf-8")
    finally:
        shutil.rmtree(log.parent)
