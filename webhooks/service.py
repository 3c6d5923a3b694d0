"""Build crossdept's parts from Settings in one place: store, queue, inbox, rules, Jira, router."""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, cast

from pydantic import SecretStr
from sqlalchemy.engine import make_url

from plugin.atlassian.jira_site import JiraSite, check_site, rebind_site
from plugin.composition import Composition, build_router, compose, load_rules
from plugin.spine import metrics
from plugin.spine.context import Context
from plugin.spine.deliveries import Deliveries
from plugin.spine.inbox import Inbox
from plugin.spine.queue import DeliveryQueue, ScheduledJob, make_queue, recover
from plugin.spine.routing import Router
from plugin.spine.schedule import run_periodic
from plugin.spine.store import Store, driver_url, keep_directory_private
from plugin.spine.worker import DEFAULT_LEASE_S, DEFAULT_MAX_ATTEMPTS, Worker
from webhooks.settings import Settings

if TYPE_CHECKING:
    from plugin.atlassian.confluence_gateway import ConfluenceGateway
    from plugin.atlassian.jira_gateway import JiraGateway
    from plugin.atlassian.ports import ConfluencePort, JiraPort
    from plugin.groups.gateway import RobotGateway
    from plugin.process.config import Rules

RouterFactory = Callable[[], Router]

DEFAULT_ROUTER = "plugin.composition:build_router"


def utc_now() -> datetime:
    """The clock handlers get: aware UTC time."""
    return datetime.now(UTC)


def import_router_factory(spec: str) -> RouterFactory:
    """Resolve `module:function` to a function returning a Router (for tests and extensions)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"{spec!r} is not of the form module:function")
    factory = getattr(importlib.import_module(module_name), attribute)
    if not callable(factory):
        raise ValueError(f"{spec!r} is not a function")
    return factory  # type: ignore[no-any-return]


class Service:
    """One process's collaborators, built lazily from Settings so each command opens only what it uses.

    The store, queue and inbox open at construction (cheap, local); the rules file is read on
    first use; Jira is connected on the first job that needs it, so a Jira outage becomes a
    transient job failure (retried) rather than a process that cannot start.
    """

    def __init__(self, settings: Settings, *, router_factory: RouterFactory = build_router) -> None:
        self.settings = settings
        keep_directory_private(settings.data_dir)
        self.store = Store(settings.database_url)
        self.queue: DeliveryQueue = make_queue(settings.queue_url)
        self.inbox = Inbox(self.store, self.queue)
        self.deliveries = Deliveries(self.store)
        self._router_factory = router_factory
        self._jira: JiraGateway | None = None
        self._confluence: ConfluencePort | None = None
        self._gateway_lock = threading.Lock()
        self._groups: RobotGateway | None = None
        # The group robots' pace reads these (a test moves its own clock instead of sleeping).
        self.robot_clock: Callable[[], float] = time.time
        self.robot_sleep: Callable[[float], None] = time.sleep

    def create_tables(self) -> None:
        """Create missing tables (every start; harmless when they exist)."""
        self.store.create_all(self.composition.tables)

    @cached_property
    def rules(self) -> Rules:
        """The validated rules file; ConfigError lists every problem."""
        return load_rules(self.settings.rules)

    @cached_property
    def composition(self) -> Composition:
        """The rules' periodic work and tables (the router may come from --router instead)."""
        return compose()

    @cached_property
    def router(self) -> Router:
        """The router every job is dispatched through."""
        return self._router_factory()

    def jira(self) -> JiraGateway:
        """The Jira gateway, connected once per process on first use.

        Raises JiraMismatchError when the store serves another Jira; the gateway is then not
        kept, so every later use checks again.
        """
        with self._gateway_lock:
            if self._jira is None:
                gateway = self._connect()
                check_site(self.store, self.site_of(gateway), time.time())
                self._jira = gateway
            return self._jira

    def _connect(self) -> JiraGateway:
        from plugin.atlassian.marks import MarkBook
        from plugin.atlassian.seals import MarkSeal
        from plugin.process.items import ITEM_PROPERTY, MEETING_PROPERTY, TREE_PROPERTY
        from plugin.process.notices import COMMENTS_PROPERTY
        from plugin.spine.budget import RequestBudget

        settings = self.settings
        gateway = connect_jira(settings)
        site = (settings.jira_url or "").rstrip("/")
        gateway.budget = RequestBudget(self.store, site, settings.jira_max_rps)
        gateway.marks = MarkBook(self.store)
        gateway.remembered = frozenset({ITEM_PROPERTY, MEETING_PROPERTY})
        gateway.seal = MarkSeal(_plain(settings.mark_key) or "")
        gateway.sealed = {
            ITEM_PROPERTY: False,
            MEETING_PROPERTY: False,
            TREE_PROPERTY: True,
            COMMENTS_PROPERTY: True,
        }
        return gateway

    def check_jira_login(self) -> None:
        """Connect afresh and ask Jira who crossdept is (for /healthz): GatewayError if not."""
        self._connect().verify_login()

    def confluence(self) -> ConfluencePort | None:
        """The Confluence gateway (no call is made until a rule asks), or None when not set up."""
        settings = self.settings
        if settings.confluence_url is None:
            return None
        if self._confluence is None:
            gateway = connect_confluence(settings)
            if settings.mark_key is not None:
                from plugin.atlassian.seals import MarkSeal
                from plugin.rules.minutes.minutes import PAGE_PROPERTY
                from plugin.rules.reports.weekly import REPORT_PROPERTY, REQUEST_PROPERTY

                gateway.seal = MarkSeal(settings.mark_key.get_secret_value())
                gateway.sealed = frozenset({PAGE_PROPERTY, REPORT_PROPERTY, REQUEST_PROPERTY})
            self._confluence = gateway
        return self._confluence

    def site_of(self, gateway: JiraGateway) -> JiraSite:
        """The Jira a connected gateway talks to, as serverInfo describes it."""
        return JiraSite.from_server_info(gateway.server_info, self.settings.jira_url or "")

    def rebind_jira(self) -> tuple[JiraSite | None, JiraSite]:
        """Make the configured Jira the store's Jira; return (the previous one, the new one)."""
        current = self.site_of(self._connect())
        return rebind_site(self.store, current, time.time()), current

    def store_name(self) -> str:
        """The store's URL without its password, for messages."""
        return make_url(driver_url(self.settings.database_url)).render_as_string(hide_password=True)

    def own_account(self) -> str | None:
        """crossdept's own Jira account, whose events the worker ignores."""
        return self.settings.jira_account_id or self.jira().myself()

    def context_for(self, delivery_key: str, *, clock: Callable[[], datetime] = utc_now) -> Context:
        """The Context one job's handlers (or one periodic run) receive.

        Jira is connected on a handler's first use of it, so a job whose handlers find nothing
        to do (an event of a project not under enforcement) needs no Jira at all.
        """
        return Context(
            rules=self.rules,
            jira=cast("JiraPort", _LazyJira(self.jira)),
            store=self.store,
            clock=clock,
            delivery_key=delivery_key,
            confluence=self.confluence(),
            router=self.router,
            groups=self.groups(),
        )

    def groups(self) -> RobotGateway | None:
        """The group robots the rules file names, with their addresses from the environment
        (CROSSDEPT_ROBOT_*); None when the rules file has no notify section."""
        notify = self.rules.notify
        if notify is None:
            return None
        if self._groups is None:
            from plugin.groups.gateway import RobotGateway
            from plugin.groups.robots import Robot

            known = self.settings.robots
            robots = {
                name: Robot(
                    channel.kind,
                    known[channel.url_env].get_secret_value(),
                    known[channel.secret_env].get_secret_value()
                    if channel.secret_env in known
                    else None,
                )
                for name, channel in notify.channels.items()
                if channel.url_env in known
                and (not channel.secret_env or channel.secret_env in known)
            }
            per_minute = {
                name: channel.per_minute
                for name, channel in notify.channels.items()
                if channel.per_minute
            }
            self._groups = RobotGateway(
                robots,
                self.store,
                per_minute=per_minute,
                clock=self.robot_clock,
                sleep=self.robot_sleep,
            )
        return self._groups

    def worker(
        self,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        lease_s: float = DEFAULT_LEASE_S,
        periodic: bool = True,
    ) -> Worker:
        """A worker attached to this process's queue, with recovery every minute and, unless
        `periodic` is off, the rules' periodic work on schedule (off, it still runs what the
        scheduling process puts on the shared queue)."""
        worker = Worker(
            self.deliveries,
            self.queue,
            self.router,
            self.context_for,
            self.own_account,
            max_attempts=max_attempts,
            lease_s=lease_s,
            observer=metrics.observe_job,
        )
        recovery = ScheduledJob("recover_deliveries", 1, self.recover)
        rules_work = [
            ScheduledJob(task.name, task.minutes, partial(self.run_periodic, task.name))
            for task in self.composition.schedule
        ]
        if periodic:
            self.queue.attach(worker.run, [recovery, *rules_work])
        else:
            self.queue.attach(worker.run, [recovery], scheduled_elsewhere=rules_work)
        return worker

    def run_periodic(self, name: str, clock: Callable[[], datetime] = utc_now) -> object:
        """Run one rule's periodic work now, with `clock` (the scheduler's, or a command's)."""
        task = self.composition.schedule.get(name)
        return run_periodic(task, self.context_for(f"periodic:{name}", clock=clock))

    def recover(self) -> list[int]:
        """Re-enqueue deliveries the queue lost (see plugin.spine.queue.recover)."""
        return recover(self.deliveries, self.queue)


class _LazyJira:
    """Stands for the Jira gateway and connects it (once per process) when first used."""

    def __init__(self, connect: Callable[[], JiraPort]) -> None:
        self._connect = connect

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connect(), name)


def connect_jira(settings: Settings) -> JiraGateway:
    """A gateway logged in to the settings' Jira, bound to no store (doctor reads with it)."""
    from plugin.atlassian.jira_gateway import JiraGateway

    return JiraGateway.connect(
        settings.jira_url or "",
        email=settings.jira_email,
        api_token=_plain(settings.jira_api_token),
        pat=_plain(settings.jira_pat),
        username=settings.jira_username,
        password=_plain(settings.jira_password),
        observer=metrics.observe_jira_call,
        address_setting="CROSSDEPT_JIRA_URL",
        login_setting=settings.login_names("jira"),
    )


def connect_confluence(settings: Settings) -> ConfluenceGateway:
    """The settings' Confluence gateway (no call is made yet); CROSSDEPT_CONFLUENCE_URL is set."""
    from plugin.atlassian.confluence_gateway import ConfluenceGateway

    return ConfluenceGateway.connect(
        settings.confluence_url or "",
        email=settings.confluence_email,
        api_token=_plain(settings.confluence_api_token),
        pat=_plain(settings.confluence_pat),
        username=settings.confluence_username,
        password=_plain(settings.confluence_password),
        address_setting="CROSSDEPT_CONFLUENCE_URL",
        login_setting=settings.login_names("confluence"),
    )


def _plain(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() or None if secret is not None else None
