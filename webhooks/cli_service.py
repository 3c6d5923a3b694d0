"""Commands that run crossdept: `serve` (web + queue on one machine), `worker`, and `jobs`."""

from __future__ import annotations

import ctypes
import errno
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from plugin import metrics
from plugin.deliveries import Delivery, DeliveryState, format_age
from plugin.errors import ConfigError, GatewayError, SettingsError
from plugin.jira_site import JiraMismatchError
from plugin.queue import Feeder
from plugin.store import driver_url
from plugin.worker import DEFAULT_LEASE_S, DEFAULT_MAX_ATTEMPTS
from webhooks.logs import configure_logging, gunicorn_logger_class
from webhooks.service import DEFAULT_ROUTER, Service, import_router_factory, utc_now
from webhooks.settings import MULTIPROC_VARIABLE, Settings, load_settings

log = logging.getLogger(__name__)

# `serve` lowers the queue consumer's CPU priority by this much (see `serve --help`).
DEFAULT_WORKER_NICE = 10
# Both children get SIGTERM and finish the requests and jobs in hand; after this, they are killed.
STOP_TIMEOUT_S = 45.0

_ENVIRONMENT = """
\b
Environment (CROSSDEPT_*):
  JIRA_URL, and JIRA_EMAIL + JIRA_API_TOKEN (Cloud) or JIRA_PAT (Data Center)
  JIRA_ACCOUNT_ID   crossdept's own account (else asked of Jira)
  RULES             the rules file (default config/rules.yaml)
  DATA_DIR          state, queue and metrics files (default ./data)
  DATABASE_URL      default sqlite:///DATA_DIR/crossdept.db; postgresql://... scales out
  QUEUE_URL         default sqlite:///DATA_DIR/queue.db; redis://... scales out
  LOG_LEVEL         default INFO
"""
_STORE_ENVIRONMENT = """
\b
Environment (CROSSDEPT_*):
  DATA_DIR          state and queue files (default ./data)
  DATABASE_URL      default sqlite:///DATA_DIR/crossdept.db
  QUEUE_URL         default sqlite:///DATA_DIR/queue.db
"""
_WEBHOOK_ENVIRONMENT = """\b
  WEBHOOK_SECRET    the Jira webhook's secret (or ALLOW_UNSIGNED=true + SHARED_TOKEN)
"""


def _fail(message: str) -> NoReturn:
    click.echo(f"crossdept: {message}", err=True)
    sys.exit(1)


def _load_settings(*, require_jira: bool, require_webhook: bool) -> Settings:
    try:
        return load_settings(require_jira=require_jira, require_webhook=require_webhook)
    except SettingsError as error:
        _fail(str(error))


def _start_service(settings: Settings, router: str = DEFAULT_ROUTER) -> Service:
    """Open the store and queue, create missing tables, and refuse an invalid rules file."""
    configure_logging(settings.log_level, secrets=settings.secret_values())
    try:
        service = Service(settings, router_factory=import_router_factory(router))
    except (ImportError, AttributeError, ValueError) as error:
        _fail(f"--router {router}: {error}")
    try:
        service.rules  # noqa: B018 - load and validate now, not at the first job
    except ConfigError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        _fail(f"the rules file {settings.rules} is invalid; not starting")
    service.create_tables()
    return service


def mismatch_sentence(error: JiraMismatchError, service: Service) -> str:
    """One sentence naming both Jiras and the ways forward."""
    return (
        f"the store {service.store_name()} serves {error.recorded.describe()}, but "
        f"CROSSDEPT_JIRA_URL leads to {error.current.describe()}; point CROSSDEPT_JIRA_URL back "
        "at that Jira, give this Jira a store of its own (CROSSDEPT_DATA_DIR or "
        "CROSSDEPT_DATABASE_URL), or, if it is the same Jira at a new address, run "
        "`crossdept rebind-jira`"
    )


def check_jira_site(service: Service) -> None:
    """Refuse to start against a Jira the store does not serve; a Jira that is down is no reason."""
    try:
        service.gateway()
    except JiraMismatchError as error:
        _fail(mismatch_sentence(error, service))
    except GatewayError as error:
        log.warning(
            "Jira did not answer at start; the store's Jira is checked at the first job",
            extra={"error": str(error)},
        )


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


def _python_command(code: str, *arguments: str) -> list[str]:
    return [sys.executable, "-c", code, *arguments]


# Options of the queue consumer, the same under `serve` and `worker`.
concurrency_option = click.option(
    "--concurrency",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Jobs the queue consumer processes at once (threads).",
)
max_attempts_option = click.option(
    "--max-attempts",
    default=DEFAULT_MAX_ATTEMPTS,
    show_default=True,
    type=click.IntRange(1),
    help="Attempts before a delivery is kept as failed.",
)


@click.command(epilog=_ENVIRONMENT + _WEBHOOK_ENVIRONMENT)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Web worker processes (gunicorn).",
)
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads per web worker process (gunicorn gthread).",
)
@concurrency_option
@max_attempts_option
@click.option(
    "--worker-nice",
    default=DEFAULT_WORKER_NICE,
    show_default=True,
    type=click.IntRange(0, 19),
    help="CPU niceness of the queue consumer, so webhooks are answered first in a burst.",
)
def serve(
    host: str,
    port: int,
    workers: int,
    threads: int,
    concurrency: int,
    max_attempts: int,
    worker_nice: int,
) -> None:
    """Run the web service and the queue consumer together on this machine.

    Webhooks arrive at /webhooks/jira; /healthz and /metrics are served too. With the default
    settings everything lives in SQLite files in the data directory (created if missing), so no
    other server is needed. Stops both cleanly on SIGTERM or Ctrl-C.

    The queue consumer runs at a lower CPU priority (--worker-nice): in a burst of webhooks the
    answers come first and the jobs right after, which is what the queue is there for (Jira
    times out waiting for an answer, not for the work).
    """
    settings = _load_settings(require_jira=True, require_webhook=True)
    problem = port_problem(host, port)
    if problem:
        _fail(problem)
    service = _start_service(settings)
    check_jira_site(service)
    service.queue.pending_count()  # create the queue file before two processes race to
    service.store.dispose()
    metrics_dir = (settings.prometheus_multiproc_dir or settings.data_dir / "metrics").resolve()
    shutil.rmtree(metrics_dir, ignore_errors=True)  # samples of processes that are gone
    metrics_dir.mkdir(parents=True)
    environment = {**os.environ, MULTIPROC_VARIABLE: str(metrics_dir)}
    children = {
        "web": _python_command(
            "from webhooks.cli_service import web; web()",
            f"--host={host}",
            f"--port={port}",
            f"--workers={workers}",
            f"--threads={threads}",
        ),
        "worker": _python_command(
            "from webhooks.cli import main; main()",
            "worker",
            f"--concurrency={concurrency}",
            f"--max-attempts={max_attempts}",
            f"--nice={worker_nice}",
        ),
    }
    log.info("serving", extra={"bind": f"{host}:{port}", "workers": workers})
    sys.exit(supervise(children, environment))


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


@click.command(hidden=True)
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8080, type=int)
@click.option("--workers", default=2, type=int)
@click.option("--threads", default=4, type=int)
def web(host: str, port: int, workers: int, threads: int) -> None:
    """Run only the web processes under gunicorn (`serve` starts this beside the worker)."""
    from gunicorn.app.base import BaseApplication

    from webhooks.app import MAX_HEADER_BYTES, MAX_HEADERS, create_app

    settings = _load_settings(require_jira=True, require_webhook=True)
    configure_logging(settings.log_level, secrets=settings.secret_values())

    def build() -> Any:
        # In each gunicorn worker after the fork, so no database connection is shared.
        service = Service(settings)
        return create_app(settings, inbox=service.inbox)

    def child_exit(_server: Any, gunicorn_worker: Any) -> None:
        metrics.mark_process_dead(gunicorn_worker.pid, settings.prometheus_multiproc_dir)

    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 30,
        "graceful_timeout": 30,
        "errorlog": "-",
        "logger_class": gunicorn_logger_class(),
        "proc_name": "crossdept-web",
        "child_exit": child_exit,
        # gunicorn 24+ opens a control socket in the home directory; nothing here uses it.
        "control_socket_disable": True,
        # Wider than the app's own header limits (webhooks.app), so the app answers those in
        # JSON; only requests far beyond them meet gunicorn's plain 400.
        "limit_request_fields": MAX_HEADERS * 10,
        "limit_request_field_size": MAX_HEADER_BYTES * 8,
    }

    class WebServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings:  # older gunicorns lack the newest settings
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return build()

    WebServer().run()


@click.command(epilog=_ENVIRONMENT)
@concurrency_option
@max_attempts_option
@click.option(
    "--lease-seconds",
    default=DEFAULT_LEASE_S,
    show_default=True,
    type=click.FloatRange(0.5),
    help="How long a job stays claimed without a heartbeat before another worker takes it over.",
)
@click.option(
    "--router",
    default=DEFAULT_ROUTER,
    show_default=True,
    help="module:function returning the Router jobs go through (for tests and extensions).",
)
@click.option(
    "--nice",
    "niceness",
    default=0,
    show_default=True,
    type=click.IntRange(0, 19),
    help="Lower this process's CPU priority by this much (`serve` uses 10).",
)
def worker(
    concurrency: int, max_attempts: int, lease_seconds: float, router: str, niceness: int
) -> None:
    """Process queued deliveries (without the web part): run several to scale out.

    Several workers on several machines share the work when they use the same PostgreSQL
    (CROSSDEPT_DATABASE_URL) and Redis (CROSSDEPT_QUEUE_URL). Each worker hands the deliveries
    the web stored to the queue (its feeder polls the store every 50 ms when idle), and marks
    those of events no rule handles done without a job. At start,
    and every minute, a worker re-enqueues deliveries whose worker died. Stops after the jobs in
    hand on SIGTERM.
    """
    if niceness:
        os.nice(niceness)
    settings = _load_settings(require_jira=True, require_webhook=False)
    service = _start_service(settings, router)
    service.router  # noqa: B018 - fail now if the router cannot be built
    check_jira_site(service)
    if logging.getLogger().getEffectiveLevel() >= logging.INFO:
        # huey logs two lines per job ("Executing", "executed in"); the worker logs the outcome.
        logging.getLogger("huey").setLevel(logging.WARNING)
    service.worker(max_attempts=max_attempts, lease_s=lease_seconds)
    recovered = service.recover()
    feeder, stop_feeding = Feeder(
        service.deliveries, service.queue, needs_work=service.router.handles
    ).start()
    log.info(
        "worker started",
        extra={"concurrency": concurrency, "recovered": len(recovered), "nice": niceness},
    )
    try:
        service.queue.consume(workers=concurrency)
    finally:
        stop_feeding.set()
        feeder.join(timeout=10)


def _parse_since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time, e.g. 2026-12-01 or 2026-12-01T09:00+08:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # a time without an offset is UTC, as in the log
    return moment.timestamp()


@click.group(invoke_without_command=True, epilog=_STORE_ENVIRONMENT)
@click.option(
    "--state",
    type=click.Choice([state.value for state in DeliveryState]),
    help="Only deliveries in this state.",
)
@click.option("--issue", "issue_key", metavar="KEY", help="Only deliveries about this issue.")
@click.option(
    "--since",
    callback=_parse_since,
    metavar="ISO",
    help="Only deliveries accepted at or after this time (ISO 8601; no offset means UTC).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1))
@click.pass_context
def jobs(
    ctx: click.Context,
    state: str | None,
    issue_key: str | None,
    since: float | None,
    as_json: bool,
    limit: int,
) -> None:
    """List recent deliveries and how each ended, newest first.

    OUTCOME says what happened: done; skipped, with why (own event: crossdept's own change;
    no rule: no rule handles the event); retrying, and when; failed, with the last error;
    queued or running. `crossdept jobs retry ID` runs a failed one again.
    Needs only the store settings, not Jira.
    """
    if ctx.invoked_subcommand is not None:
        return
    service = _open_store_only()
    found = service.deliveries.recent(
        DeliveryState(state) if state else None, limit=limit, issue=issue_key, since=since
    )
    now = time.time()
    if as_json:
        click.echo(json.dumps([_as_json(delivery, now) for delivery in found], indent=2))
        return
    click.echo(format_jobs(found, now))


@jobs.command("retry", epilog=_STORE_ENVIRONMENT)
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Retry every failed delivery.")
@click.option(
    "--force", is_flag=True, help="Also run deliveries that finished (done or skipped) again."
)
def retry(ids: tuple[int, ...], all_failed: bool, force: bool) -> None:
    """Run failed deliveries IDS again, with a fresh set of attempts.

    A delivery that finished is refused unless --force: running it again repeats its work
    (safe, as every rule is, but rarely what you meant). Queued and running ones are refused.
    """
    if not ids and not all_failed:
        _fail("name the deliveries to retry (see `crossdept jobs --state failed`) or --all-failed")
    service = _open_store_only()
    chosen = list(ids) + (service.deliveries.ids(DeliveryState.FAILED) if all_failed else [])
    refused = 0
    for delivery_id in dict.fromkeys(chosen):
        if service.deliveries.requeue(delivery_id, force=force):
            service.queue.enqueue_delivery(delivery_id)
            log.info("delivery re-queued by hand", extra={"delivery_id": delivery_id})
            click.echo(f"{delivery_id}: queued")
            continue
        found = service.deliveries.get(delivery_id)
        if found is None:
            why = "no such delivery"
        elif found.state == DeliveryState.DONE:
            why = f"it is {found.describe(time.time())}; --force runs it again"
        else:
            why = f"it is {found.state.value}"
        click.echo(f"{delivery_id}: not retried: {why}", err=True)
        refused += 1
    if refused:
        sys.exit(1)


@jobs.command("recover", epilog=_STORE_ENVIRONMENT)
def recover_command() -> None:
    """Re-enqueue deliveries the queue lost (a dead worker's, a failed enqueue) now.

    Every worker does this at start and every minute; this runs it once by hand.
    """
    service = _open_store_only()
    recovered = service.recover()
    click.echo(
        f"re-enqueued {len(recovered)}"
        + (f": {', '.join(map(str, recovered))}" if recovered else "")
    )


def _fixed_clock(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> Callable[[], datetime] | None:
    moment = _parse_since(_ctx, _param, value)
    if moment is None:
        return None
    fixed = datetime.fromtimestamp(moment, UTC)
    return lambda: fixed


@click.command("periodic", epilog=_ENVIRONMENT)
@click.argument("name", required=False)
@click.option(
    "--now",
    "clock",
    callback=_fixed_clock,
    metavar="ISO",
    help="Run as if it were this time (ISO 8601; no offset means UTC), e.g. to catch up or test.",
)
def periodic_command(name: str | None, clock: Callable[[], datetime] | None) -> None:
    """Run one rule's periodic work once, now; without NAME, list the periodic work.

    Workers run each on its schedule; this is the same function with the clock in your hand.
    """
    settings = _load_settings(require_jira=name is not None, require_webhook=False)
    service = _open_store_only(settings)
    tasks = list(service.composition.schedule)
    if name is None:
        if not tasks:
            click.echo("no rule has periodic work")
        for task in tasks:
            doc = (task.run.__doc__ or "").strip().splitlines()
            click.echo(f"{task.name}  every {task.minutes} min  {doc[0] if doc else ''}".rstrip())
        return
    try:
        service.composition.schedule.get(name)
    except KeyError as error:
        _fail(str(error.args[0]))
    try:
        result = service.run_periodic(name, clock=clock or utc_now)
    except JiraMismatchError as error:
        _fail(mismatch_sentence(error, service))
    except GatewayError as error:
        _fail(f"{name}: Jira: {error}")
    click.echo(f"{name}: done" + (f": {result}" if result is not None else ""))


@click.command("rebind-jira", epilog=_ENVIRONMENT)
def rebind_jira() -> None:
    """Make the Jira at CROSSDEPT_JIRA_URL the one this store serves.

    For the same Jira under a new address (a site rename, a new base URL). For a different Jira,
    give it a store of its own instead: crossdept's records of one Jira mean nothing in another.
    """
    settings = _load_settings(require_jira=True, require_webhook=False)
    service = _open_store_only(settings)
    try:
        previous, current = service.rebind_jira()
    except GatewayError as error:
        _fail(f"Jira did not answer: {error}")
    was = previous.describe() if previous is not None else "no Jira yet"
    click.echo(f"the store {service.store_name()} now serves {current.describe()} (was: {was})")


def _open_store_only(settings: Settings | None = None) -> Service:
    """Open an existing store for an operator's command; never create an empty one."""
    if settings is None:
        settings = _load_settings(require_jira=False, require_webhook=False)
    configure_logging(settings.log_level, secrets=settings.secret_values())
    problem = missing_store(settings)
    if problem:
        _fail(problem)
    service = Service(settings)
    service.create_tables()  # an older crossdept's store gains the newer tables and columns
    return service


def missing_store(settings: Settings) -> str | None:
    """Say why there is no crossdept store where the settings point, or None when there is one."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if not settings.data_dir.is_dir() and not url.database:
            return f"the data directory {settings.data_dir} does not exist"
        path = Path(url.database or "")
        if not path.is_file():
            where = (
                f"the data directory {settings.data_dir} does not exist"
                if not settings.data_dir.is_dir()
                else f"there is no crossdept store at {path}"
            )
            return (
                f"{where}: set CROSSDEPT_DATA_DIR (or CROSSDEPT_DATABASE_URL) to the one "
                "`crossdept serve` or `crossdept worker` uses"
            )
        return None
    shown = url.render_as_string(hide_password=True)
    engine = create_engine(driver_url(settings.database_url))
    try:
        with engine.connect() as connection:
            has_table = inspect(connection).has_table("deliveries")
    except Exception as error:  # noqa: BLE001 - any failure to connect is the answer
        return f"cannot open the store {shown}: {type(error).__name__}: {_first_line(error)}"
    finally:
        engine.dispose()
    if not has_table:
        return (
            f"the database {shown} holds no crossdept store: set CROSSDEPT_DATABASE_URL to the "
            "one `crossdept serve` or `crossdept worker` uses"
        )
    return None


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [""])[0][:200]


def format_jobs(deliveries: list[Delivery], now: float, *, error_width: int = 60) -> str:
    """A fixed-width table: id, event, issue, outcome, attempts, last error, age."""
    header = ("ID", "EVENT", "ISSUE", "OUTCOME", "ATTEMPTS", "LAST ERROR", "AGE")
    rows = [header] + [
        (
            str(d.id),
            d.event,
            d.issue or "-",
            d.describe(now),
            str(d.attempts),
            _shorten(d.last_error or "-", error_width),
            format_age(now - d.created_at),
        )
        for d in deliveries
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    if not deliveries:
        lines.append("(no deliveries)")
    return "\n".join(line.rstrip() for line in lines)


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _as_json(delivery: Delivery, now: float) -> dict[str, Any]:
    def iso(moment: float | None) -> str | None:
        return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()

    return {
        "id": delivery.id,
        "key": delivery.key,
        "event": delivery.event,
        "issue": delivery.issue,
        "state": delivery.state.value,
        "outcome": delivery.describe(now),
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "created_at": iso(delivery.created_at),
        "updated_at": iso(delivery.updated_at),
        "run_after": iso(delivery.run_after),
        "age_seconds": round(now - delivery.created_at, 1),
    }


__all__ = [
    "format_age",
    "jobs",
    "periodic_command",
    "rebind_jira",
    "serve",
    "supervise",
    "web",
    "worker",
]
