"""Start and stop what the demo runs: `crossdept serve` as a subprocess, configured like a real deployment."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from demo.harness import POLL_S, SERVICE_STOP_S, DemoError
from sandbox.seed import Seed, SeedUser

log = logging.getLogger(__name__)


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def service_environment(
    seed: Seed,
    crossdept: SeedUser,
    *,
    sandbox_url: str,
    webhook_secret: str,
    rules_path: Path,
    data_dir: Path,
) -> dict[str, str]:
    """The environment `crossdept serve` gets: this process's, minus any CROSSDEPT_*, plus the demo's."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith("CROSSDEPT_") and name != "PROMETHEUS_MULTIPROC_DIR"
    }
    environment.update(
        CROSSDEPT_JIRA_URL=sandbox_url,
        CROSSDEPT_JIRA_ACCOUNT_ID=crossdept.account_id if seed.is_cloud else crossdept.login,
        CROSSDEPT_WEBHOOK_SECRET=webhook_secret,
        CROSSDEPT_MARK_KEY=secrets.token_urlsafe(32),
        CROSSDEPT_RULES=str(rules_path),
        CROSSDEPT_DATA_DIR=str(data_dir),
        CROSSDEPT_LOG_LEVEL="INFO",
        CROSSDEPT_BOARD_TOKEN=secrets.token_urlsafe(24),
        # Jira and Confluence share the sandbox's address; Cloud's Confluence lives under /wiki.
        CROSSDEPT_CONFLUENCE_URL=sandbox_url + "/wiki" if seed.is_cloud else sandbox_url,
    )
    if seed.is_cloud:
        # The sandbox checks who is calling, not the token: any token is the account's.
        environment["CROSSDEPT_JIRA_EMAIL"] = crossdept.email
        environment["CROSSDEPT_JIRA_API_TOKEN"] = secrets.token_urlsafe(24)
    else:
        pats = [token for token, login in seed.tokens.items() if login == crossdept.login]
        if not pats:
            raise DemoError(f"the Data Center seed gives {crossdept.login} no access token")
        environment["CROSSDEPT_JIRA_PAT"] = pats[0]
    # Run this very crossdept, installed or not.
    package_root = str(Path(__file__).resolve().parents[1])
    environment["PYTHONPATH"] = os.pathsep.join(
        part for part in (package_root, environment.get("PYTHONPATH")) if part
    )
    return environment


def seed_user(seed: Seed, login: str) -> SeedUser:
    for user in seed.users:
        if user.login == login:
            return user
    raise DemoError(f"the sandbox seed has no user {login!r}")


@contextmanager
def service_process(
    environment: Mapping[str, str], port: int, log_path: Path, cwd: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `crossdept serve` until the block ends; SIGTERM lets it stop its web and worker cleanly."""
    command = [
        sys.executable,
        "-c",
        "from webhooks.cli import main; main()",
        "serve",
        "--host=127.0.0.1",
        f"--port={port}",
        "--workers=1",
        "--concurrency=2",
        # The demo shows what crossdept does on events; a sweep landing mid-scene would blur
        # its call counts (and with past dates it would mark everything late).
        "--no-periodic",
    ]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command,
            env=dict(environment),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own session: a terminal's Ctrl-C reaches only the demo, which stops it in order.
            start_new_session=True,
        )
    try:
        yield process
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then wait (a second Ctrl-C does not cut the wait short); kill only if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    stopping = time.monotonic()
    deadline = time.monotonic() + SERVICE_STOP_S
    while process.poll() is None and time.monotonic() < deadline:
        try:
            process.wait(max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            break
        except KeyboardInterrupt:
            continue  # already stopping: finish stopping
    if process.poll() is None:
        process.kill()
        process.wait()
    log.debug("service stopped in %.1f s", time.monotonic() - stopping)


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DemoError(f"crossdept serve exited with code {process.returncode} at start")
        try:
            if requests.get(url + "/healthz", timeout=1.0).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(POLL_S)
    raise DemoError(f"crossdept serve did not answer {url}/healthz within {timeout_s:.0f} s")


@contextmanager
def sandbox_log(path: Path) -> Iterator[None]:
    """Send the sandbox server's request log (werkzeug's) to a file instead of the terminal."""
    logger = logging.getLogger("werkzeug")
    handler = logging.FileHandler(path, encoding="utf-8")
    saved = (logger.handlers[:], logger.propagate, logger.level)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.handlers[:], logger.propagate, level = saved
        logger.setLevel(level)
        handler.close()


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt so the demo cleans up whichever way it is stopped."""

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (e.g. a test runner's thread): nothing to restore
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
