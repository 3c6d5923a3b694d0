"""`crossdept minutes KEY`: a preview touches nothing; publishing prints the page and the items."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from webhooks.cli import cli

RULES = "config/rules.yaml"
ENGINEERING = "557058:00000000-0000-4000-8000-000000000004"


@pytest.fixture
def cloud_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.rules.trees.test_trees import SANDBOX_CLOUD

    for name, value in {
        "CROSSDEPT_JIRA_URL": SANDBOX_CLOUD,
        "CROSSDEPT_MARK_KEY": "test-mark-key-not-in-jira",
        "CROSSDEPT_JIRA_EMAIL": "crossdept@example.com",
        "CROSSDEPT_JIRA_API_TOKEN": "t",
        "CROSSDEPT_CONFLUENCE_URL": SANDBOX_CLOUD + "/wiki",
        "CROSSDEPT_RULES": RULES,
        "CROSSDEPT_DATA_DIR": str(tmp_path / "data"),
        "CROSSDEPT_ALLOW_UNSIGNED": "true",
    }.items():
        monkeypatch.setenv(name, value)


def held_meeting() -> str:
    """A request, and a meeting linked to it whose record names a decision and an action."""
    from tests.rules.trees.test_trees import REQUEST_FIELDS, sandbox_gateways

    requester, _bot = sandbox_gateways(True)
    request = requester._call("POST", "/rest/api/2/issue", body={"fields": REQUEST_FIELDS}).json()
    meeting = requester._call(
        "POST",
        "/rest/api/2/issue",
        body={
            "fields": {
                "project": {"key": "XD"},
                "issuetype": {"name": "会议"},
                "summary": "启动会",
                "description": "议程：介绍需求",
                "customfield_10060": "2026-03-03T10:00:00.000+0800",
                "customfield_10061": [{"accountId": ENGINEERING}],
            }
        },
    ).json()["key"]
    requester.link_issues(meeting, request["key"])
    requester.add_comment(
        meeting, f"决议：按期启动\n待办：[~accountid:{ENGINEERING}] 2026-03-10 评估工作量"
    )
    return str(meeting)


@pytest.mark.usefixtures("cloud_env")
def test_a_preview_writes_html_and_publishes_nothing(tmp_path: Path) -> None:
    from sandbox.app import installed_sandbox
    from tests.fakes import ManualClock
    from tests.rules.trees.test_trees import SANDBOX_CLOUD

    out = tmp_path / "minutes.html"
    with installed_sandbox(
        "sandbox/seeds/cloud.yaml", clock=ManualClock(), jira_url=SANDBOX_CLOUD
    ) as sandbox:
        meeting = held_meeting()
        issues_before = len(sandbox.jira.issues)
        result = CliRunner().invoke(cli, ["minutes", meeting, "--preview", str(out)])
        titles = sandbox.confluence.titles("XD")  # type: ignore[union-attr]
        issues_after = len(sandbox.jira.issues)

    assert result.exit_code == 0, result.output
    assert "preview written to" in result.output
    assert "(no item yet)" in result.output
    html = out.read_text(encoding="utf-8")
    assert "按期启动" in html and "评估工作量" in html and "@Example Engineering Contact" in html
    assert titles == ["跨部门协作 Home"] and issues_after == issues_before


@pytest.mark.usefixtures("cloud_env")
def test_publishing_prints_the_page_and_each_action_with_its_item() -> None:
    from sandbox.app import installed_sandbox
    from tests.fakes import ManualClock
    from tests.rules.trees.test_trees import SANDBOX_CLOUD

    with installed_sandbox(
        "sandbox/seeds/cloud.yaml", clock=ManualClock(), jira_url=SANDBOX_CLOUD
    ) as sandbox:
        meeting = held_meeting()
        first = CliRunner().invoke(cli, ["minutes", meeting])
        second = CliRunner().invoke(cli, ["minutes", meeting])
        assert sandbox.violations == []

    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert lines[0] == f"{meeting}: 2026-03-03 新品推广 启动会 会议纪要"
    assert "(version 1)" in lines[1] and "/wiki/spaces/XD/pages/" in lines[1]
    assert lines[2] == "  1 decisions, 1 actions, 0 open points"
    assert lines[3].startswith("  XD-") and lines[3].endswith(
        f"{ENGINEERING}  2026-03-10  2026-03-10 评估工作量"
    )
    assert second.exit_code == 0 and "(version 1)" in second.output
    assert second.output.splitlines()[3] == lines[3]  # the same item, not a second one


def test_a_meeting_key_that_is_not_a_meeting_is_said_plainly(cloud_env: None) -> None:
    from sandbox.app import installed_sandbox
    from tests.fakes import ManualClock
    from tests.rules.trees.test_trees import REQUEST_FIELDS, SANDBOX_CLOUD, sandbox_gateways

    with installed_sandbox("sandbox/seeds/cloud.yaml", clock=ManualClock(), jira_url=SANDBOX_CLOUD):
        requester, _bot = sandbox_gateways(True)
        key = requester._call("POST", "/rest/api/2/issue", body={"fields": REQUEST_FIELDS}).json()[
            "key"
        ]
        result = CliRunner().invoke(cli, ["minutes", key])
    assert result.exit_code == 1
    assert result.output.strip() == f"crossdept: {key}: not a meeting"
