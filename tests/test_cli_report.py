"""`crossdept report departments`: the board's figures from Jira and the store, three formats."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.test_cli_minutes import cloud_env  # noqa: F401 - the fixture
from webhooks.cli import cli


@pytest.mark.usefixtures("cloud_env")
def test_a_tree_whose_dates_have_passed_shows_every_item_delayed_per_department() -> None:
    from sandbox.app import installed_sandbox
    from tests.fakes import ManualClock
    from tests.test_trees import REQUEST_FIELDS, SANDBOX_CLOUD, sandbox_gateways

    with installed_sandbox("config/sandbox-seed.yaml", clock=ManualClock(), jira_url=SANDBOX_CLOUD):
        requester, _bot = sandbox_gateways(True)
        key = requester._call("POST", "/rest/api/2/issue", body={"fields": REQUEST_FIELDS}).json()[
            "key"
        ]
        assert CliRunner().invoke(cli, ["apply", key]).exit_code == 0
        as_json = CliRunner().invoke(cli, ["report", "departments", "--format", "json"])
        as_csv = CliRunner().invoke(cli, ["report", "departments", "--format", "csv"])
        as_table = CliRunner().invoke(cli, ["report", "departments", "--request", key])

    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    rows = {row["department"]: row for row in data["departments"]}
    assert list(rows)[:4] == ["市场部", "技术部", "产品部", "财务部"]
    # The tree starts 2026-03-02 and nothing is done: every item is past due (the CLI runs on
    # today's date), so each department's on-time rate is a known 0%, not unknown.
    assert sum(row["items"] for row in rows.values()) == 35
    assert all(row["delayed"] == row["items"] == row["open"] for row in rows.values())
    assert all(row["on_time_rate"] == 0.0 for row in rows.values() if row["items"])
    assert all(row["median_hours"] is None for row in rows.values())  # nobody was asked
    assert len(data["delayed"]) == 35 and data["delayed"][0]["days_late"] > 100
    assert [r["stages"] for r in data["requests"]] == [6]

    lines = as_csv.output.splitlines()
    assert lines[0].startswith("department,items,done_on_time,done_late,open,delayed,on_time_rate")
    assert lines[1].split(",")[-3:] == ["", "", "0"]  # no median, no p90: empty, not 0

    table = as_table.output.splitlines()
    assert table[0].split()[:3] == ["DEPARTMENT", "ITEMS", "ON"]
    assert "0%" in table[1] and "—" in table[1]
