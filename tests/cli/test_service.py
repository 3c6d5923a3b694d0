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
from pathlib import Path

import pytest
from click.testing import CliRunner

from plugin.spine.deliveries import Deliveries, DeliveryState
from plugin.spine.store import Store
from webhooks.cli import cli
from webhooks.cli.service import recover_at_start

pytestmark = pytest.mark.usefixtures("restore_logging")


REPO = Path(__file__).resolve().parents[2]


COMMENT = REPO / "tests" / "samples" / "comment_created__mattermost_mattermost-plugin-jira__1.json"


def test_every_command_explains_itself_and_what_it_needs(runner: CliRunner) -> None:
    for command in (["serve"], ["worker"], ["jobs"], ["jobs", "retry"]):
        result = runner.invoke(cli, [*command, "--help"])
        assert result.exit_code == 0, result.output
        assert "Environment" in result.output
    assert "WEBHOOK_SECRET" in runner.invoke(cli, ["serve", "--help"]).output
    assert "--worker-nice" in runner.invoke(cli, ["serve", "--help"]).output
    assert "--nice" in runner.invoke(cli, ["worker", "--help"]).output


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
    cli_environment: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSDEPT_")}
    env.update(cli_environment, PYTHONPATH=str(REPO))
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

            data_deliveries = Deliveries(Store(f"sqlite:///{tmp_path}/data/crossdept.db"))
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if data_deliveries.ids(DeliveryState.DONE):
                    break
                time.sleep(0.2)
            [done] = data_deliveries.recent(DeliveryState.DONE)
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


def test_a_worker_starting_while_redis_restarts_comes_up_and_recovers_later(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Found by the crash test: a worker started just as Redis restarted exited on its
    start-up recovery; its consumer would have waited the restart out."""

    class RestartingQueue:
        def recover(self) -> list[int]:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    caplog.set_level(logging.WARNING)
    assert recover_at_start(RestartingQueue()) == 0  # type: ignore[arg-type]
    assert "recovery at start failed; it runs again every minute" in caplog.text


def test_a_worker_starting_normally_recovers_what_the_queue_lost() -> None:
    class LostTwo:
        def recover(self) -> list[int]:
            return [4, 7]

    assert recover_at_start(LostTwo()) == 2  # type: ignore[arg-type]
