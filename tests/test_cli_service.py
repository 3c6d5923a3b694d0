"""The serve, worker and jobs commands: what operators see and what they can do."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from plugin.deliveries import Deliveries, DeliveryState
from plugin.queue import make_queue
from plugin.store import Store
from tests.fakes import ALL_TABLES
from webhooks.cli import cli
from webhooks.cli_service import format_age, supervise

REPO = Path(__file__).resolve().parent.parent
COMMENT = REPO / "tests" / "samples" / "comment_created__mattermost_mattermost-plugin-jira__1.json"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    return {
        "CROSSDEPT_DATA_DIR": str(tmp_path / "data"),
        "CROSSDEPT_RULES": str(REPO / "config" / "rules.yaml"),
        "CROSSDEPT_JIRA_URL": "http://127.0.0.1:9",
        "CROSSDEPT_JIRA_EMAIL": "bot@example.com",
        "CROSSDEPT_JIRA_API_TOKEN": "not-a-real-token",
        "CROSSDEPT_JIRA_ACCOUNT_ID": "crossdept-bot",
        "CROSSDEPT_ALLOW_UNSIGNED": "true",
        "CROSSDEPT_SHARED_TOKEN": "shared-token-for-tests",
    }


@pytest.fixture
def runner(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in list(os.environ):
        if name.startswith("CROSSDEPT_"):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return CliRunner()


@pytest.fixture
def deliveries(tmp_path: Path) -> Deliveries:
    (tmp_path / "data").mkdir(exist_ok=True)
    store = Store(f"sqlite:///{tmp_path}/data/crossdept.db")
    store.create_all(ALL_TABLES)
    return Deliveries(store)


def add_failed(deliveries: Deliveries, key: str, error: str) -> int:
    delivery_id = deliveries.add(key, "jira:issue_created", "CD-7", b"{}")
    assert delivery_id is not None
    deliveries.claim(delivery_id, "w", lease_s=60)
    deliveries.fail(delivery_id, "w", error)
    return delivery_id


def test_every_command_explains_itself_and_what_it_needs(runner: CliRunner) -> None:
    for command in (["serve"], ["worker"], ["jobs"], ["jobs", "retry"]):
        result = runner.invoke(cli, [*command, "--help"])
        assert result.exit_code == 0, result.output
        assert "Environment" in result.output
    assert "WEBHOOK_SECRET" in runner.invoke(cli, ["serve", "--help"]).output
    assert "--worker-nice" in runner.invoke(cli, ["serve", "--help"]).output
    assert "--nice" in runner.invoke(cli, ["worker", "--help"]).output


def test_jobs_lists_deliveries_with_their_state_and_last_error(
    runner: CliRunner, deliveries: Deliveries
) -> None:
    deliveries.add("d-1", "jira:issue_updated", "CD-6", b"{}")
    add_failed(deliveries, "d-2", "RefusedError 400: customfield_10020: Sprint is closed")

    result = runner.invoke(cli, ["jobs"])

    assert result.exit_code == 0, result.output
    header, failed, queued = result.output.splitlines()
    assert header.split() == ["ID", "EVENT", "ISSUE", "OUTCOME", "ATTEMPTS", "LAST", "ERROR", "AGE"]
    assert failed.split()[:5] == ["2", "jira:issue_created", "CD-7", "failed", "1"]
    assert "Sprint is closed" in failed
    assert queued.split()[:5] == ["1", "jira:issue_updated", "CD-6", "queued", "0"]


def test_jobs_filters_by_state_and_prints_json(runner: CliRunner, deliveries: Deliveries) -> None:
    deliveries.add("d-1", "jira:issue_updated", "CD-6", b"{}")
    failed_id = add_failed(deliveries, "d-2", "boom")

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
    runner: CliRunner, deliveries: Deliveries, tmp_path: Path
) -> None:
    failed_id = add_failed(deliveries, "d-1", "boom")

    result = runner.invoke(cli, ["jobs", "retry", str(failed_id)])

    assert result.exit_code == 0, result.output
    again = deliveries.get(failed_id)
    assert again is not None and (again.state, again.attempts) == (DeliveryState.QUEUED, 0)
    queue = make_queue(f"sqlite:///{tmp_path}/data/queue.db")
    assert queue.delivery_ids_in_transport() == {failed_id}


def test_jobs_retry_all_failed(runner: CliRunner, deliveries: Deliveries) -> None:
    first, second = add_failed(deliveries, "d-1", "x"), add_failed(deliveries, "d-2", "y")

    result = runner.invoke(cli, ["jobs", "retry", "--all-failed"])

    assert result.exit_code == 0, result.output
    assert deliveries.ids(DeliveryState.QUEUED) == [first, second]


def test_jobs_retry_says_why_it_cannot(runner: CliRunner, deliveries: Deliveries) -> None:
    queued = deliveries.add("d-1", "e", None, b"{}")

    result = runner.invoke(cli, ["jobs", "retry", str(queued), "999"])

    assert result.exit_code == 1
    assert f"{queued}: not retried: it is queued" in result.output
    assert "999: not retried: no such delivery" in result.output
    assert runner.invoke(cli, ["jobs", "retry"]).exit_code == 1


def finished(deliveries: Deliveries, key: str, outcome: str, issue: str = "CD-7") -> int:
    delivery_id = deliveries.add(key, "jira:issue_updated", issue, b"{}")
    assert delivery_id is not None
    deliveries.claim(delivery_id, "w", lease_s=60)
    deliveries.finish(delivery_id, "w", outcome)
    return delivery_id


def test_jobs_retry_refuses_a_finished_delivery_unless_forced(
    runner: CliRunner, deliveries: Deliveries
) -> None:
    done = finished(deliveries, "d-1", "skipped: own event")

    refused = runner.invoke(cli, ["jobs", "retry", str(done)])
    assert refused.exit_code == 1
    assert f"{done}: not retried: it is skipped: own event; --force runs it again" in refused.output
    assert deliveries.get(done).state == DeliveryState.DONE  # type: ignore[union-attr]

    forced = runner.invoke(cli, ["jobs", "retry", "--force", str(done)])
    assert forced.exit_code == 0, forced.output
    assert deliveries.get(done).state == DeliveryState.QUEUED  # type: ignore[union-attr]


def test_jobs_show_each_real_outcome_and_filter_by_issue_and_time(
    runner: CliRunner, deliveries: Deliveries
) -> None:
    hour_ago = float(int(time.time()) // 60 * 60 - 3600)
    deliveries.clock = lambda: hour_ago - 3600
    finished(deliveries, "old", "done", issue="XD-9")
    deliveries.clock = lambda: hour_ago
    finished(deliveries, "own", "skipped: own event", issue="XD-1")
    finished(deliveries, "none", "skipped: no rule", issue="XD-1")
    retrying = deliveries.add("retry", "jira:issue_updated", "XD-1", b"{}")
    assert retrying is not None
    deliveries.claim(retrying, "w", lease_s=60)
    deliveries.defer(retrying, "w", 3 * 3600, "TransientGatewayError: HTTP 503")
    add_failed(deliveries, "bad", "RefusedError 400: no")

    listed = json.loads(runner.invoke(cli, ["jobs", "--json"]).output)
    assert [(job["key"], job["outcome"]) for job in listed] == [
        ("bad", "failed"),
        ("retry", "retrying in 1h"),
        ("none", "skipped: no rule"),
        ("own", "skipped: own event"),
        ("old", "done"),
    ]
    table = runner.invoke(cli, ["jobs", "--issue", "xd-1"])
    assert table.exit_code == 0, table.output
    rows = table.output.splitlines()[1:]
    assert len(rows) == 3
    for row, outcome in zip(
        rows, ["retrying in 1h", "skipped: no rule", "skipped: own event"], strict=True
    ):
        assert f"  {outcome}  " in row

    when = datetime.fromtimestamp(hour_ago - 1800, UTC)
    since = runner.invoke(cli, ["jobs", "--json", "--since", when.strftime("%Y-%m-%dT%H:%M")])
    assert [job["key"] for job in json.loads(since.output)] == ["bad", "retry", "none", "own"]
    shifted = when.astimezone(timezone(timedelta(hours=8))).isoformat()
    assert len(json.loads(runner.invoke(cli, ["jobs", "--json", "--since", shifted]).output)) == 4
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


def test_the_worker_refuses_an_invalid_rules_file(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("language: en\nnot_a_field: 1\n")
    monkeypatch.setenv("CROSSDEPT_RULES", str(rules))

    result = runner.invoke(cli, ["worker"])

    assert result.exit_code == 1
    assert f"{rules}:" in result.output
    assert "is invalid; not starting" in result.output


def test_the_worker_refuses_missing_jira_settings(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CROSSDEPT_JIRA_URL")

    result = runner.invoke(cli, ["worker"])

    assert result.exit_code == 1
    assert "CROSSDEPT_JIRA_URL" in result.output


def test_ages_are_short() -> None:
    assert [format_age(s) for s in (3, 75, 7300, 200000)] == ["3s", "1m", "2h", "2d"]


def test_supervise_stops_the_others_when_one_process_ends() -> None:
    started = time.monotonic()

    code = supervise(
        {
            "quits": [sys.executable, "-c", "pass"],
            "sleeps": [sys.executable, "-c", "import time; time.sleep(60)"],
        },
        dict(os.environ),
        stop_timeout_s=20,
    )

    assert code == 1
    assert time.monotonic() - started < 30  # the sleeper got SIGTERM instead of being awaited


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux only")
def test_children_stop_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    child = (
        "import os, pathlib, time;"
        f"pathlib.Path({str(pids)!r}, str(os.getpid())).touch();"
        "time.sleep(120)"
    )
    pids.mkdir()
    script = (
        "import os, sys\n"
        "from webhooks.cli_service import supervise\n"
        f"supervise({{'a': [sys.executable, '-c', {child!r}], "
        f"'b': [sys.executable, '-c', {child!r}]}}, dict(os.environ))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    supervisor = subprocess.Popen([sys.executable, "-c", script], env=env)
    deadline = time.monotonic() + 30
    while len(list(pids.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    children = [int(path.name) for path in pids.iterdir()]
    assert len(children) == 2

    supervisor.kill()  # SIGKILL: the supervisor cannot pass anything on
    supervisor.wait()

    deadline = time.monotonic() + 10
    while any(is_running(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(is_running(pid) for pid in children)


def is_running(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie waiting for its (new) parent to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def niceness_of_children(parent: int, word: str) -> list[int]:
    """The nice values of `parent`'s child processes whose command line contains `word`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == parent and word.encode() in command:
            found.append(int(fields[16]))
    return found


def test_serve_receives_processes_and_stops_cleanly(
    environment: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSDEPT_")}
    env.update(environment, PYTHONPATH=str(REPO))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [
        sys.executable,
        "-c",
        "from webhooks.cli import main; main()",
        "serve",
        f"--port={port}",
        "--workers=1",
        "--concurrency=1",
    ]
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=log, stdout=log)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if get(f"{base}/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.2)
            assert get(f"{base}/healthz")[0] == 200
            if Path("/proc").is_dir():  # the consumer yields the CPU to the web processes
                deadline = time.monotonic() + 30
                while niceness_of_children(server.pid, "worker") != [10]:
                    assert time.monotonic() < deadline, niceness_of_children(server.pid, "worker")
                    time.sleep(0.2)

            request = urllib.request.Request(
                f"{base}/webhooks/jira",
                data=COMMENT.read_bytes(),
                headers={
                    "Content-Type": "application/json",
                    "X-Crossdept-Token": "shared-token-for-tests",
                },
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 202
            # Headers over the app's limit reach the app (gunicorn's own limit is wider) and
            # are refused in the JSON every refusal uses.
            request.add_header("X-Padding", "x" * 9000)
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 431
            assert json.loads(refused.value.read())["status"] == "rejected"

            deliveries = Deliveries(Store(f"sqlite:///{tmp_path}/data/crossdept.db"))
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if deliveries.ids(DeliveryState.DONE):
                    break
                time.sleep(0.2)
            [done] = deliveries.recent(DeliveryState.DONE)
            assert done.event == "comment_created"

            status, text = get(f"{base}/metrics")
            assert status == 200 and b"crossdept_deliveries" in text
            assert (tmp_path / "data" / "metrics").is_dir()

            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=60) == 0
        finally:
            if server.poll() is None:
                # SIGTERM first: serve stops its web and worker children, which a SIGKILL would
                # leave running (they are in their own sessions).
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()


def test_the_worker_refuses_a_router_it_cannot_import(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["worker", "--router", "no_such_module:build"])

    assert result.exit_code == 1
    assert "--router no_such_module:build" in result.output


def test_serve_on_a_busy_port_stops_at_once_with_one_sentence(runner: CliRunner) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = runner.invoke(cli, ["serve", f"--port={port}"])
        elapsed = time.monotonic() - started

    assert result.exit_code == 1
    assert result.output.strip() == (
        f"crossdept: port {port} on 127.0.0.1 is already in use: stop whatever listens there, "
        "or start crossdept serve with another --port"
    )
    assert elapsed < 1.0


def test_jobs_recover_re_enqueues_a_dead_workers_delivery(
    runner: CliRunner, deliveries: Deliveries, tmp_path: Path
) -> None:
    lost = deliveries.add("d-1", "jira:issue_created", "XD-1", b"{}")
    assert lost is not None
    deliveries.claim(lost, "dead-worker", lease_s=-1)  # its lease has already run out

    result = runner.invoke(cli, ["jobs", "recover"])

    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == f"re-enqueued 1: {lost}"  # after the log line
    assert deliveries.get(lost).state == DeliveryState.QUEUED  # type: ignore[union-attr]
    queue = make_queue(f"sqlite:///{tmp_path}/data/queue.db")
    assert lost in queue.delivery_ids_in_transport()
