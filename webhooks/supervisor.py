"""Run crossdept's processes side by side and stop them together, never leaving one behind."""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)

# Both children get SIGTERM and finish the requests and jobs in hand; after this, they are killed.
STOP_TIMEOUT_S = 45.0


def port_problem(host: str, port: int) -> str | None:
    """Say in one sentence why `serve` could not listen on host:port, or None when it can.

    Checked before anything starts: gunicorn would otherwise retry the bind for seconds.
    """
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
            probe.bind(address)
    except socket.gaierror as error:
        return f"cannot listen on {host}:{port}: {host} is not an address of this machine ({error.strerror})"
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            return (
                f"port {port} on {host} is already in use: stop whatever listens there, or "
                "start crossdept serve with another --port"
            )
        return f"cannot listen on {host}:{port}: {error.strerror}"
    return None


# prctl(2): the signal a process gets when the thread that forked it ends (Linux only).
_PR_SET_PDEATHSIG = 1


def _stop_when_parent_dies(parent: int) -> Callable[[], None] | None:
    """Have a child get SIGTERM if `serve` itself dies, even by SIGKILL, so none is orphaned.

    Runs in the child between fork and exec; the setting survives exec. Elsewhere than on
    Linux, a service manager's process-group kill is the way.
    """
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def arrange() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the line above took effect
            os._exit(1)  # a signal here would reach the parent's inherited Python handler

    return arrange


def supervise(
    commands: Mapping[str, list[str]],
    environment: Mapping[str, str],
    *,
    stop_timeout_s: float = STOP_TIMEOUT_S,
) -> int:
    """Run commands side by side until SIGTERM/SIGINT or one of them exits; then stop the rest.

    Returns 0 after a requested stop, 1 when a child ended by itself. Children run in their own
    session, so a terminal's Ctrl-C reaches only this process, which turns it into SIGTERM.
    """
    stop = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    children: dict[str, subprocess.Popen[bytes]] = {}
    ended: str | None = None
    arrange = _stop_when_parent_dies(os.getpid())
    try:
        for name, command in commands.items():
            children[name] = subprocess.Popen(
                command,
                env=dict(environment),
                start_new_session=True,
                preexec_fn=arrange,  # noqa: PLW1509 - no threads yet
            )
        while not stop.is_set() and ended is None:
            ended = next((n for n, c in children.items() if c.poll() is not None), None)
            stop.wait(0.2)
    finally:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + stop_timeout_s
        for name, child in children.items():
            try:
                child.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                log.error("did not stop in time; killed", extra={"child": name})
                child.kill()
                child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if ended is not None:
        log.error(
            "a process ended by itself; stopped the others",
            extra={"child": ended, "exit_code": children[ended].returncode},
        )
        return 1
    return 0
