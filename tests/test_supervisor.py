"""The supervisor: processes started together, stopped together, none left behind; a busy port said at once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from webhooks.cli import cli
from webhooks.supervisor import supervise

REPO = Path(__file__).resolve().parent.parent


pytestmark = pytest.mark.usefixtures("restore_logging")


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
        "from webhooks.cli.service import supervise\n"
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
