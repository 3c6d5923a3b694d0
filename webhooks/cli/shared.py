"""What every crossdept command shares: settings or one sentence, and opening an existing store."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn, TypeVar

import click
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from plugin.atlassian.jira_site import JiraMismatchError
from plugin.spine.context import Context
from plugin.spine.errors import ConfigError, GatewayError, SettingsError, TransientGatewayError
from plugin.spine.store import driver_url
from webhooks.logs import configure_logging
from webhooks.service import Service
from webhooks.settings import Settings, load_settings

log = logging.getLogger(__name__)

ENVIRONMENT = """
\b
Environment (CROSSDEPT_*):
  JIRA_URL, and JIRA_EMAIL + JIRA_API_TOKEN (Cloud), JIRA_PAT (Data Center 8.14+) or
  JIRA_USERNAME + JIRA_PASSWORD (older Server)
  JIRA_ACCOUNT_ID   crossdept's own account (else asked of Jira)
  RULES             the rules file (default config/rules.yaml)
  DATA_DIR          state, queue and metrics files (default ./data)
  DATABASE_URL      default sqlite:///DATA_DIR/crossdept.db; postgresql://... scales out
  QUEUE_URL         default sqlite:///DATA_DIR/queue.db; redis://... scales out
  LOG_LEVEL         default INFO
"""


STORE_ENVIRONMENT = """
\b
Environment (CROSSDEPT_*):
  DATA_DIR          state and queue files (default ./data)
  DATABASE_URL      default sqlite:///DATA_DIR/crossdept.db
  QUEUE_URL         default sqlite:///DATA_DIR/queue.db
"""


WEBHOOK_ENVIRONMENT = """\b
  WEBHOOK_SECRET    the Jira webhook's secret (or ALLOW_UNSIGNED=true + SHARED_TOKEN)
"""


def fail(message: str) -> NoReturn:
    click.echo(f"crossdept: {message}", err=True)
    sys.exit(1)


def settings_or_fail(*, require_jira: bool, require_webhook: bool) -> Settings:
    try:
        return load_settings(require_jira=require_jira, require_webhook=require_webhook)
    except SettingsError as error:
        fail(str(error))


T = TypeVar("T")


def with_context(name: str, work: Callable[[Context], T], *, subject: str = "") -> T:
    """Run a command's work with the service's Context (rules, Jira, Confluence, store); settings,
    rules, a different Jira or a Jira/Confluence failure end it with one sentence, exit 1."""
    prefix = f"{subject}: " if subject else ""
    service: Service | None = None
    try:
        service = Service(load_settings(require_webhook=False))
        service.create_tables()
        return work(service.context_for(name))
    except JiraMismatchError as error:
        assert service is not None
        fail(mismatch_sentence(error, service))
    except (SettingsError, ConfigError) as error:
        fail(str(error))
    except TransientGatewayError as error:
        wait = f"; try again in {error.retry_after:.0f} s" if error.retry_after else ""
        fail(f"{prefix}{error}{wait}")
    except GatewayError as error:
        fail(f"{prefix}{error.reason() if hasattr(error, 'reason') else error}")


def mismatch_sentence(error: JiraMismatchError, service: Service) -> str:
    """One sentence naming both Jiras and the ways forward."""
    return (
        f"the store {service.store_name()} serves {error.recorded.describe()}, but "
        f"CROSSDEPT_JIRA_URL leads to {error.current.describe()}; point CROSSDEPT_JIRA_URL back "
        "at that Jira, give this Jira a store of its own (CROSSDEPT_DATA_DIR or "
        "CROSSDEPT_DATABASE_URL), or, if it is the same Jira at a new address, run "
        "`crossdept rebind-jira`"
    )


def display_names(service: Service, accounts: Iterable[str]) -> dict[str, str]:
    """People's display names from Jira for a command's output; when Jira cannot be asked (not
    configured, down, refusing) the command still answers, with account ids and a note saying why.
    """
    try:
        return service.context_for("cli-names").jira.display_names(accounts)
    except (GatewayError, SettingsError, JiraMismatchError) as error:
        click.echo(f"(people shown by account id: Jira did not answer: {error})", err=True)
        return {}


def open_store(settings: Settings | None = None) -> Service:
    """Open an existing store for an operator's command; never create an empty one."""
    if settings is None:
        settings = settings_or_fail(require_jira=False, require_webhook=False)
    configure_logging(settings.log_level, secrets=settings.secret_values())
    problem = missing_store(settings)
    if problem:
        fail(problem)
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
        return f"cannot open the store {shown}: {type(error).__name__}: {first_line(error)}"
    finally:
        engine.dispose()
    if not has_table:
        return (
            f"the database {shown} holds no crossdept store: set CROSSDEPT_DATABASE_URL to the "
            "one `crossdept serve` or `crossdept worker` uses"
        )
    return None


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [""])[0][:200]


def parse_time(_ctx: click.Context, _param: click.Parameter, value: str | None) -> float | None:
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


def fixed_clock(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> Callable[[], datetime] | None:
    moment = parse_time(_ctx, _param, value)
    if moment is None:
        return None
    fixed = datetime.fromtimestamp(moment, UTC)
    return lambda: fixed
