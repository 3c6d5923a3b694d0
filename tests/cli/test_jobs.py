"""`crossdept jobs`: each delivery's real outcome, filters, retries, and no store made by mistake."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from plugin.spine.deliveries import Deliveries, DeliveryState, format_age
from plugin.spine.queue import make_queue
from webhooks.cli import cli

pytestmark = pytest.mark.usefixtures("restore_logging")


def add_failed(data_deliveries: Deliveries, key: str, error: str) -> int:
    delivery_id = data_deliveries.add(key, "jira:issue_created", "CD-7", b"{}")
    assert delivery_id is not None
    data_deliveries.claim(delivery_id, "w", lease_s=60)
    data_deliveries.fail(delivery_id, "w", error)
    return delivery_id


def test_jobs_lists_deliveries_with_their_state_and_last_error(
    runner: CliRunner, data_deliveries: Deliveries
) -> None:
    data_deliveries.add("d-1", "jira:issue_updated", "CD-6", b"{}")
    add_failed(data_deliveries, "d-2", "RefusedError 400: customfield_10020: Sprint is closed")

    result = runner.invoke(cli, ["jobs"])

    assert result.exit_code == 0, result.output
    header, failed, queued = result.output.splitlines()
    assert header.split() == ["ID", "EVENT", "ISSUE", "OUTCOME", "ATTEMPTS", "LAST", "ERROR", "AGE"]
    assert failed.split()[:5] == ["2", "jira:issue_created", "CD-7", "failed", "1"]
    assert "Sprint is closed" in failed
    assert queued.split()[:5] == ["1", "jira:issue_updated", "CD-6", "queued", "0"]


def test_jobs_filters_by_state_and_prints_json(
    runner: CliRunner, data_deliveries: Deliveries
) -> None:
    data_deliveries.add("d-1", "jira:issue_updated", "CD-6", b"{}")
    failed_id = add_failed(data_deliveries, "d-2", "boom")

    result = runner.invoke(cli, ["jobs", "--state", "failed", "--json"])

    assert result.exit_code == 0, result.output
    [job] = json.loads(result.output)
    assert (job["id"], job["key"], job["state"], job["last_error"]) == (
        failed_id,
        "d-2",
        "failed",
        "boom",
    )


def test_jobs_retry_queues_a_failed_delivery_again(
    runner: CliRunner, data_deliveries: Deliveries, tmp_path: Path
) -> None:
    failed_id = add_failed(data_deliveries, "d-1", "boom")

    result = runner.invoke(cli, ["jobs", "retry", str(failed_id)])

    assert result.exit_code == 0, result.output
    again = data_deliveries.get(failed_id)
    assert again is not None and (again.state, again.attempts) == (DeliveryState.QUEUED, 0)
    queue = make_queue(f"sqlite:///{tmp_path}/data/queue.db")
    assert queue.delivery_ids_in_transport() == {failed_id}


def test_jobs_retry_all_failed(runner: CliRunner, data_deliveries: Deliveries) -> None:
    first, second = add_failed(data_deliveries, "d-1", "x"), add_failed(data_deliveries, "d-2", "y")

    result = runner.invoke(cli, ["jobs", "retry", "--all-failed"])

    assert result.exit_code == 0, result.output
    assert data_deliveries.ids(DeliveryState.QUEUED) == [first, second]


def test_jobs_retry_says_why_it_cannot(runner: CliRunner, data_deliveries: Deliveries) -> None:
    queued = data_deliveries.add("d-1", "e", None, b"{}")

    result = runner.invoke(cli, ["jobs", "retry", str(queued), "999"])

    assert result.exit_code == 1
    assert f"{queued}: not retried: it is queued" in result.output
    assert "999: not retried: no such delivery" in result.output
    assert runner.invoke(cli, ["jobs", "retry"]).exit_code == 1


def finished(data_deliveries: Deliveries, key: str, outcome: str, issue: str = "CD-7") -> int:
    delivery_id = data_deliveries.add(key, "jira:issue_updated", issue, b"{}")
    assert delivery_id is not None
    data_deliveries.claim(delivery_id, "w", lease_s=60)
    data_deliveries.finish(delivery_id, "w", outcome)
    return delivery_id


def test_jobs_retry_refuses_a_finished_delivery_unless_forced(
    runner: CliRunner, data_deliveries: Deliveries
) -> None:
    done = finished(data_deliveries, "d-1", "skipped: own event")

    refused = runner.invoke(cli, ["jobs", "retry", str(done)])
    assert refused.exit_code == 1
    assert f"{done}: not retried: it is skipped: own event; --force runs it again" in refused.output
    assert data_deliveries.get(done).state == DeliveryState.DONE  # type: ignore[union-attr]

    forced = runner.invoke(cli, ["jobs", "retry", "--force", str(done)])
    assert forced.exit_code == 0, forced.output
    assert data_deliveries.get(done).state == DeliveryState.QUEUED  # type: ignore[union-attr]


def test_jobs_show_each_real_outcome_and_filter_by_issue_and_time(
    runner: CliRunner, data_deliveries: Deliveries
) -> None:
    hour_ago = float(int(time.time()) // 60 * 60 - 3600)
    data_deliveries.clock = lambda: hour_ago - 3600
    finished(data_deliveries, "old", "done", issue="XD-9")
    data_deliveries.clock = lambda: hour_ago
    finished(data_deliveries, "own", "skipped: own event", issue="XD-1")
    finished(data_deliveries, "none", "skipped: no rule", issue="XD-1")
    retrying = data_deliveries.add("retry", "jira:issue_updated", "XD-1", b"{}")
    assert retrying is not None
    data_deliveries.claim(retrying, "w", lease_s=60)
    data_deliveries.defer(retrying, "w", 3 * 3600, "TransientGatewayError: HTTP 503")
    add_failed(data_deliveries, "bad", "RefusedError 400: no")

    listed = json.loads(runner.invoke(cli, ["jobs", "--json", "--all"]).output)
    assert [(job["key"], job["outcome"]) for job in listed] == [
        ("bad", "failed"),
        ("retry", "retrying in 1h"),
        ("none", "skipped: no rule"),
        ("own", "skipped: own event"),
        ("old", "done"),
    ]
    plain = json.loads(runner.invoke(cli, ["jobs", "--json"]).output)
    assert [job["key"] for job in plain] == ["bad", "retry", "none", "old"]  # not crossdept's own
    table = runner.invoke(cli, ["jobs", "--issue", "xd-1", "--all"])
    assert table.exit_code == 0, table.output
    rows = table.output.splitlines()[1:]
    assert len(rows) == 3
    for row, outcome in zip(
        rows, ["retrying in 1h", "skipped: no rule", "skipped: own event"], strict=True
    ):
        assert f"  {outcome}  " in row

    when = datetime.fromtimestamp(hour_ago - 1800, UTC)
    since = runner.invoke(
        cli, ["jobs", "--json", "--all", "--since", when.strftime("%Y-%m-%dT%H:%M")]
    )
    assert [job["key"] for job in json.loads(since.output)] == ["bad", "retry", "none", "own"]
    shifted = when.astimezone(timezone(timedelta(hours=8))).isoformat()
    assert len(json.loads(runner.invoke(cli, ["jobs", "--json", "--since", shifted]).output)) == 3
    bad = runner.invoke(cli, ["jobs", "--since", "yesterday"])
    assert bad.exit_code == 2 and "not an ISO 8601 time" in bad.output


@pytest.mark.parametrize("command", [["jobs"], ["jobs", "retry", "1"], ["rebind-jira"]])
def test_store_commands_refuse_a_data_directory_that_does_not_exist(
    runner: CliRunner, tmp_path: Path, command: list[str]
) -> None:
    result = runner.invoke(cli, command)

    assert result.exit_code == 1
    assert f"the data directory {tmp_path / 'data'} does not exist" in result.output
    assert "CROSSDEPT_DATA_DIR" in result.output
    assert not (tmp_path / "data").exists()  # nothing was created


def test_store_commands_refuse_a_missing_database_file(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("CROSSDEPT_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")

    result = runner.invoke(cli, ["jobs"])

    assert result.exit_code == 1
    assert f"there is no crossdept store at {tmp_path / 'elsewhere.db'}" in result.output
    assert not (tmp_path / "elsewhere.db").exists()
    assert list((tmp_path / "data").iterdir()) == []


def test_ages_are_short() -> None:
    assert [format_age(s) for s in (3, 75, 7300, 200000)] == ["3s", "1m", "2h", "2d"]


def test_jobs_recover_re_enqueues_a_dead_workers_delivery(
    runner: CliRunner, data_deliveries: Deliveries, tmp_path: Path
) -> None:
    lost = data_deliveries.add("d-1", "jira:issue_created", "XD-1", b"{}")
    assert lost is not None
    data_deliveries.claim(lost, "dead-worker", lease_s=-1)  # its lease has already run out

    result = runner.invoke(cli, ["jobs", "recover"])

    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == f"re-enqueued 1: {lost}"  # after the log line
    assert data_deliveries.get(lost).state == DeliveryState.QUEUED  # type: ignore[union-attr]
    queue = make_queue(f"sqlite:///{tmp_path}/data/queue.db")
    assert lost in queue.delivery_ids_in_transport()


def test_audit_prints_what_crossdept_did_per_issue_and_since_a_time(
    runner: CliRunner, data_deliveries: Deliveries
) -> None:
    from plugin.process.audit import Audit

    audit = Audit(data_deliveries.store)
    audit.record(1_800_000_000.0, "XD-9", "ownership", "check failed", "single_owner", "d-1")
    audit.record(1_800_000_001.0, "XD-9", "ownership", "comment posted", None, "d-1")
    audit.record(1_800_003_600.0, "XD-10", "ownership", "label removed", "crossdept-违规", "d-2")

    lines = runner.invoke(cli, ["audit", "xd-9"]).output.splitlines()
    assert lines == [
        "2027-01-15T08:00:00+00:00  XD-9  ownership  check failed  single_owner  (d-1)",
        "2027-01-15T08:00:01+00:00  XD-9  ownership  comment posted  (d-1)",
    ]
    later = json.loads(
        runner.invoke(cli, ["audit", "--since", "2027-01-15T08:30", "--json"]).output
    )
    assert later == [
        {
            "at": "2027-01-15T09:00:00+00:00",
            "issue": "XD-10",
            "rule": "ownership",
            "action": "label removed",
            "detail": "crossdept-违规",
            "cause": "d-2",
        }
    ]
    assert runner.invoke(cli, ["audit", "XD-404"]).output.strip() == "(nothing recorded)"


def test_asks_lists_open_clocks_with_their_next_step(
    runner: CliRunner, data_deliveries: Deliveries
) -> None:
    from plugin.process.asks import Asks

    asks = Asks(data_deliveries.store)
    asks.open(
        issue="XD-9",
        asked="engineering.contact",
        asked_by="requester",
        source="mention",
        source_id="c1",
        asked_at=0.0,
        next_due=1.0,
        department="技术部",
    )
    asks.open(
        issue="XD-10",
        asked="finance.contact",
        asked_by="requester",
        source="mention",
        source_id="c2",
        asked_at=time.time(),
        next_due=time.time() + 86400,
        department="财务部",
    )

    listed = json.loads(runner.invoke(cli, ["asks", "--json"]).stdout)
    assert [(a["issue"], a["next_step"]) for a in listed] == [
        ("XD-9", "reminder to asked"),
        ("XD-10", "reminder to asked"),
    ]
    overdue = json.loads(runner.invoke(cli, ["asks", "--overdue", "--json"]).stdout)
    assert [a["issue"] for a in overdue] == ["XD-9"]
    # No Jira answers here: the listing still comes, by account id, and says why.
    finance = runner.invoke(cli, ["asks", "--department", "财务部"])
    assert finance.stdout.startswith("XD-10  requester → finance.contact  since ")
    assert "next: reminder to asked (finance.contact) at " in finance.stdout
    assert "people shown by account id: Jira did not answer" in finance.stderr


def test_failed_shorthand_and_top_level_retry(
    runner: CliRunner, data_deliveries: Deliveries
) -> None:
    data_deliveries.add("d-1", "jira:issue_updated", "CD-6", b"{}")
    failed_id = add_failed(data_deliveries, "d-2", "boom")

    listed = runner.invoke(cli, ["jobs", "--failed", "--json"])
    assert [job["id"] for job in json.loads(listed.output)] == [failed_id]
    contradiction = runner.invoke(cli, ["jobs", "--failed", "--state", "done"])
    assert contradiction.exit_code == 1 and "contradict" in contradiction.output

    retried = runner.invoke(cli, ["retry", str(failed_id)])
    assert retried.exit_code == 0, retried.output
    again = data_deliveries.get(failed_id)
    assert again is not None and again.state == DeliveryState.QUEUED
