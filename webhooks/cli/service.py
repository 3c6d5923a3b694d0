"""Commands that run crossdept: `serve` (web + queue on one machine), `worker`, `periodic`, `rebind-jira`."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime
from typing import Any

import click

from plugin.atlassian.jira_site import JiraMismatchError
from plugin.spine import metrics
from plugin.spine.errors import ConfigError, GatewayError, RefusedError
from plugin.spine.queue import Feeder
from plugin.spine.schedule import exclusively
from plugin.spine.worker import DEFAULT_LEASE_S, DEFAULT_MAX_ATTEMPTS, describe_error
from webhooks.cli.shared import (
    ENVIRONMENT,
    WEBHOOK_ENVIRONMENT,
    display_names,
    fail,
    fixed_clock,
    mismatch_sentence,
    open_store,
    settings_or_fail,
)
from webhooks.logs import configure_logging, gunicorn_logger_class
from webhooks.service import DEFAULT_ROUTER, Service, import_router_factory, utc_now
from webhooks.settings import MULTIPROC_VARIABLE, Settings
from webhooks.supervisor import port_problem, supervise

log = logging.getLogger(__name__)

# `serve` lowers the queue consumer's CPU priority by this much (see `serve --help`).
DEFAULT_WORKER_NICE = 10


def _start_service(settings: Settings, router: str = DEFAULT_ROUTER) -> Service:
    """Open the store and queue, create missing tables, and refuse an invalid rules file."""
    configure_logging(settings.log_level, secrets=settings.secret_values())
    try:
        service = Service(settings, router_factory=import_router_factory(router))
    except (ImportError, AttributeError, ValueError) as error:
        fail(f"--router {router}: {error}")
    try:
        service.rules  # noqa: B018 - load and validate now, not at the first job
    except ConfigError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        fail(f"the rules file {settings.rules} is invalid; not starting")
    service.create_tables()
    return service


def check_logins_at_start(service: Service) -> None:
    """Check Jira and Confluence once at start: refuse a Jira the store does not serve and a
    login either refuses (naming the settings to fix); a service that is down is no reason not
    to start (deliveries wait in the queue), but it is said."""
    try:
        service.jira().verify_login()
    except JiraMismatchError as error:
        fail(mismatch_sentence(error, service))
    except RefusedError as error:
        if error.status in (401, 403):
            fail(f"{error}: {error.reason()}")
        _say_down("Jira", error)
    except GatewayError as error:
        _say_down("Jira", error)
    confluence, settings = service.confluence(), service.rules.confluence
    if confluence is None or settings is None:
        return
    try:
        confluence.verify(settings.space)
    except RefusedError as error:
        if error.status == 401:
            fail(f"{error}: {error.reason()}")
        log.warning(
            "Confluence refused to show the space the minutes go to",
            extra={"error": f"{error}: {error.reason()}", "space": settings.space},
        )
        click.echo(
            f"crossdept: warning: Confluence space {settings.space} (confluence.space in the "
            f"rules file): {error.reason()}",
            err=True,
        )
    except GatewayError as error:
        _say_down("Confluence", error)


def _say_down(product: str, error: GatewayError) -> None:
    """A service that is down, or refuses the first call, at start: start anyway, and say so
    where the operator looks, as what happened (a refusal is an answer, not an outage)."""
    if isinstance(error, RefusedError):
        log.warning(
            "%s refused crossdept's first call at start; check its address and crossdept's access",
            product,
            extra={"error": str(error), "reason": error.reason()},
        )
    else:
        log.warning(
            "%s did not answer at start; jobs wait for it (nothing is lost)",
            product,
            extra={"error": str(error)},
        )
    click.echo(
        f"crossdept: warning: {error}; starting anyway: jobs that need {product} wait in the "
        "queue until it answers",
        err=True,
    )


def _python_command(code: str, *arguments: str) -> list[str]:
    return [sys.executable, "-c", code, *arguments]


# A fixed clock for work that runs on a schedule, the same under `periodic` and `sweep`.
now_option = click.option(
    "--now",
    "clock",
    callback=fixed_clock,
    metavar="ISO",
    help="Run as if it were this time (ISO 8601; no offset means UTC), e.g. to catch up or test.",
)

# Whether this process's consumer runs the rules' periodic work, the same under `serve` and
# `worker` (recovery of lost deliveries always runs).
periodic_option = click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Run the rules' periodic work (the delay sweep) here; with many workers, one is enough.",
)

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


@click.command(epilog=ENVIRONMENT + WEBHOOK_ENVIRONMENT)
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
@periodic_option
@click.option(
    "--worker-nice",
    default=DEFAULT_WORKER_NICE,
    show_default=True,
    type=click.IntRange(0, 19),
    help="CPU niceness of the queue consumer, so webhooks are answered first in a burst.",
)
@click.option(
    "--worker/--no-worker",
    "with_worker",
    default=True,
    show_default=True,
    help="Run the queue consumer here too; --no-worker serves the web part alone, beside "
    "`crossdept worker` processes elsewhere (PostgreSQL and Redis).",
)
def serve(
    host: str,
    port: int,
    workers: int,
    threads: int,
    concurrency: int,
    max_attempts: int,
    periodic: bool,
    worker_nice: int,
    with_worker: bool,
) -> None:
    """Run the web service and the queue consumer together on this machine.

    Webhooks arrive at /webhooks/jira; /healthz and /metrics are served too. With the default
    settings everything lives in SQLite files in the data directory (created if missing), so no
    other server is needed. Stops both cleanly on SIGTERM or Ctrl-C. With --no-worker only the
    web part runs: scaled out, web hosts run that and `crossdept worker` runs elsewhere.

    The queue consumer runs at a lower CPU priority (--worker-nice): in a burst of webhooks the
    answers come first and the jobs right after, which is what the queue is there for (Jira
    times out waiting for an answer, not for the work).
    """
    settings = settings_or_fail(require_jira=True, require_webhook=True)
    problem = port_problem(host, port)
    if problem:
        fail(problem)
    service = _start_service(settings)
    check_logins_at_start(service)
    service.queue.pending_count()  # create the queue file before two processes race to
    service.store.dispose()
    metrics_dir = (settings.prometheus_multiproc_dir or settings.data_dir / "metrics").resolve()
    shutil.rmtree(metrics_dir, ignore_errors=True)  # samples of processes that are gone
    metrics_dir.mkdir(mode=0o700, parents=True)
    environment = {**os.environ, MULTIPROC_VARIABLE: str(metrics_dir)}
    children: dict[str, list[str]] = {
        "web": _python_command(
            "from webhooks.cli.service import web; web()",
            f"--host={host}",
            f"--port={port}",
            f"--workers={workers}",
            f"--threads={threads}",
        ),
    }
    if with_worker:
        children["worker"] = _python_command(
            "from webhooks.cli import main; main()",
            "worker",
            f"--concurrency={concurrency}",
            f"--max-attempts={max_attempts}",
            "--periodic" if periodic else "--no-periodic",
            f"--nice={worker_nice}",
            "--logins-checked",
        )
    log.info(
        "serving",
        extra={"bind": f"{host}:{port}", "workers": workers, "queue_consumer": with_worker},
    )
    sys.exit(supervise(children, environment))


@click.command(hidden=True)
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8080, type=int)
@click.option("--workers", default=2, type=int)
@click.option("--threads", default=4, type=int)
def web(host: str, port: int, workers: int, threads: int) -> None:
    """Run only the web processes under gunicorn (`serve` starts this beside the worker)."""
    from gunicorn.app.base import BaseApplication

    from webhooks.web.app import MAX_HEADER_BYTES, MAX_HEADERS, create_app

    settings = settings_or_fail(require_jira=True, require_webhook=True)
    configure_logging(settings.log_level, secrets=settings.secret_values())

    def build() -> Any:
        # In each gunicorn worker after the fork, so no database connection is shared.
        service = Service(settings)
        return create_app(settings, inbox=service.inbox, jira_check=service.check_jira_login)

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
        # Wider than the app's own header limits (webhooks.web.app), so the app answers those in
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


@click.command(epilog=ENVIRONMENT)
@concurrency_option
@max_attempts_option
@periodic_option
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
@click.option(
    "--logins-checked", is_flag=True, hidden=True, help="`serve` checked Jira's login already."
)
def worker(
    concurrency: int,
    max_attempts: int,
    periodic: bool,
    lease_seconds: float,
    router: str,
    niceness: int,
    logins_checked: bool,
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
    settings = settings_or_fail(require_jira=True, require_webhook=False)
    service = _start_service(settings, router)
    service.router  # noqa: B018 - fail now if the router cannot be built
    if not logins_checked:
        check_logins_at_start(service)
    if logging.getLogger().getEffectiveLevel() >= logging.INFO:
        # huey logs two lines per job ("Executing", "executed in"); the worker logs the outcome.
        logging.getLogger("huey").setLevel(logging.WARNING)
    service.worker(max_attempts=max_attempts, lease_s=lease_seconds, periodic=periodic)
    recovered = recover_at_start(service)
    feeder, stop_feeding = Feeder(
        service.deliveries, service.queue, needs_work=service.router.handles
    ).start()
    log.info(
        "worker started",
        extra={"concurrency": concurrency, "recovered": recovered, "nice": niceness},
    )
    try:
        service.queue.consume(workers=concurrency)
    finally:
        stop_feeding.set()
        feeder.join(timeout=10)


def recover_at_start(service: Service) -> int:
    """Re-enqueue what the queue lost, unless the store or queue is restarting right now: the
    worker must come up anyway, as its consumer waits them out and recovery runs every minute."""
    try:
        return len(service.recover())
    except Exception as error:  # noqa: BLE001 - a server restarting must not stop the worker
        log.warning(
            "recovery at start failed; it runs again every minute",
            extra={"error": describe_error(error)},
        )
        return 0


@click.command("periodic", epilog=ENVIRONMENT)
@click.argument("name", required=False)
@now_option
def periodic_command(name: str | None, clock: Callable[[], datetime] | None) -> None:
    """Run one rule's periodic work once, now; without NAME, list the periodic work.

    Workers run each on its schedule; this is the same function with the clock in your hand.
    """
    settings = settings_or_fail(require_jira=name is not None, require_webhook=False)
    service = open_store(settings)
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
        fail(str(error.args[0]))
    try:
        result = service.run_periodic(name, clock=clock or utc_now)
    except JiraMismatchError as error:
        fail(mismatch_sentence(error, service))
    except GatewayError as error:
        fail(f"{name}: Jira: {error}")
    click.echo(f"{name}: done" + (f": {result}" if result is not None else ""))


@click.command("sweep", epilog=ENVIRONMENT)
@now_option
@click.option("--dry-run", is_flag=True, help="Say what would change in Jira; change nothing.")
def sweep_command(clock: Callable[[], datetime] | None, dry_run: bool) -> None:
    """Run both sweeps once. The delay sweep marks late items delayed (延期), unmarks done or
    re-dated ones, reminds owners before their due date, and tells the project manager of long
    delays. The escalation sweep reminds, then escalates, every unanswered ask whose next step is
    due. Workers run them every 5 minutes and every minute; each step is taken once.
    """
    from plugin.rules.escalation.escalation import run_ask_sweep
    from plugin.rules.ownership.ownership import run_sweep

    settings = settings_or_fail(require_jira=True, require_webhook=False)
    service = open_store(settings)
    try:
        context = service.context_for("cli-sweep", clock=clock or utc_now)
        report = run_sweep(context, dry_run=dry_run)
        sweep_asks = service.composition.schedule.get("sweep_asks")
        # A dry run writes nothing, so it need not wait for a worker's sweep.
        with exclusively(sweep_asks, context) if not dry_run else nullcontext(True) as ours:
            asked = run_ask_sweep(context, dry_run=dry_run) if ours else None
    except JiraMismatchError as error:
        fail(mismatch_sentence(error, service))
    except GatewayError as error:
        fail(f"sweep: Jira: {error}")
    prefix = "would: " if dry_run else ""
    for line in report.lines():
        click.echo(prefix + line)
    verb = "would act on" if dry_run else "acted on"
    click.echo(f"delays: {report.read} items read; {verb} {len(report.decisions)}")
    if asked is None:
        click.echo("asks: another worker is running sweep_asks")
        return
    if asked.stepped:
        from plugin.process.asks import Asks
        from plugin.process.ladder import recipient, steps

        rules = service.rules
        ladder = steps(rules)
        asks = Asks(service.store).by_id(ask_id for ask_id, _step, _person in asked.stepped)
        names = display_names(service, [person for _id, _step, person in asked.stepped if person])
        for ask_id, number, person in asked.stepped:
            step, ask = ladder[number - 1], asks[ask_id]
            role = recipient(
                step, ask.asked, rules, requester=ask.asked_by, pm=rules.project_manager
            ).role
            who = names.get(person, person) or "-"
            click.echo(f"{prefix}{ask.issue} ask {ask_id}: {step.kind} to {role}, {who}")
    taken = "would take" if dry_run else "took"
    click.echo(f"asks: {asked.due} due; {taken} {len(asked.stepped)} steps; {asked.closed} closed")


@click.command("rebind-jira", epilog=ENVIRONMENT)
def rebind_jira() -> None:
    """Make the Jira at CROSSDEPT_JIRA_URL the one this store serves.

    For the same Jira under a new address (a site rename, a new base URL). For a different Jira,
    give it a store of its own instead: crossdept's records of one Jira mean nothing in another.
    """
    settings = settings_or_fail(require_jira=True, require_webhook=False)
    service = open_store(settings)
    try:
        previous, current = service.rebind_jira()
    except GatewayError as error:
        fail(f"Jira did not answer: {error}")
    was = previous.describe() if previous is not None else "no Jira yet"
    click.echo(f"the store {service.store_name()} now serves {current.describe()} (was: {was})")
