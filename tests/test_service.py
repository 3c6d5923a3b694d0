"""The service wiring: every part built from settings in one place, periodic work installed."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect

from plugin.composition import Composition, compose
from plugin.spine.context import Context
from plugin.spine.routing import Router
from plugin.spine.schedule import Schedule
from tests.fakes import FakeJira
from webhooks.service import Service
from webhooks.settings import Settings

MOMENT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def service(settings: Settings) -> Iterator[Service]:
    service = Service(settings)
    service._jira = FakeJira()  # no Jira to connect to: the port is all rules see
    yield service
    service.store.dispose()


def test_create_tables_makes_every_table_the_rules_keep(service: Service) -> None:
    service.create_tables()
    names = set(inspect(service.store.engine).get_table_names())
    assert {table.name for table in compose().tables} <= names


def test_a_context_carries_the_rules_the_jira_port_the_store_and_the_clock(
    service: Service,
) -> None:
    context = service.context_for("delivery-1", clock=lambda: MOMENT)
    assert context.rules is service.rules
    assert context.jira.myself() == service._jira.myself()  # the port, connected on first use
    assert context.store is service.store
    assert context.clock() == MOMENT
    assert context.delivery_key == "delivery-1"


def with_periodic_work(service: Service, seen: list[Context]) -> None:
    schedule = Schedule()

    @schedule.every(minutes=5)
    def sweep(context: Context) -> int:
        """Look at what is late."""
        seen.append(context)
        return 3

    service.composition = Composition(Router(), schedule, compose().tables, compose().wordings)


def test_periodic_work_runs_by_name_with_the_clock_given(service: Service) -> None:
    seen: list[Context] = []
    with_periodic_work(service, seen)

    assert service.run_periodic("sweep", clock=lambda: MOMENT) == 3

    assert seen[0].clock() == MOMENT
    assert seen[0].delivery_key == "periodic:sweep"


def test_a_worker_installs_recovery_and_every_rules_periodic_work(service: Service) -> None:
    seen: list[Context] = []
    with_periodic_work(service, seen)
    service.create_tables()

    service.worker()

    jobs = service.queue.scheduled_jobs
    assert [(name, job.minutes) for name, job in sorted(jobs.items())] == [
        ("recover_deliveries", 1),
        ("sweep", 5),
    ]
    jobs["sweep"].run()
    assert len(seen) == 1 and seen[0].delivery_key == "periodic:sweep"


def test_the_store_name_hides_the_password(settings: Settings) -> None:
    secret = settings.model_copy(
        update={"database_url": "postgresql://crossdept:hunter2-secret@db/crossdept"}
    )
    shown = Service.__new__(Service)
    shown.settings = secret
    assert shown.store_name() == "postgresql+psycopg://crossdept:***@db/crossdept"


def test_periodic_command_lists_the_work_and_names_an_unknown_task(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]
) -> None:
    from click.testing import CliRunner

    from webhooks.cli import cli

    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    service = Service(Settings.model_validate({"data_dir": environ["CROSSDEPT_DATA_DIR"]}))
    service.create_tables()  # an existing store, as `serve` leaves one
    service.store.dispose()

    listed = CliRunner().invoke(cli, ["periodic"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.strip().splitlines() == [
        "check_mirror  every 60 min  Once a night, read every item again: repair the rows that "
        "drifted and say how many did.",
        "file_cadence_meetings  every 30 min  File each cadence meeting once, in the day before "
        "its notice period starts.",
        "publish_weekly_reports  every 15 min  Once its weekly moment has passed, publish each "
        "active request's progress table once.",
        "refresh_mirror  every 1 min  Once a minute, read the items changed since the last search "
        "(the first time, every item).",
        "sweep_asks  every 1 min  Remind, then escalate, every ask whose next step is due, once each.",
        "sweep_delays  every 5 min  Mark late items delayed, unmark done or re-dated ones, "
        "remind owners, tell the PM.",
        "sweep_minutes  every 5 min  Minutes past due and unpublished become an ask to the "
        "organiser, once per meeting.",
        "sweep_missed_meetings  every 5 min  A meeting not marked held `missed_after` past its "
        "end is said once to its organiser.",
        "take_assessment_snapshot  every 60 min  Every `every_days`, keep each department's "
        "figures for the period just ended.",
    ]

    unknown = CliRunner().invoke(cli, ["periodic", "sweep"])
    assert unknown.exit_code == 1
    assert (
        "no periodic task 'sweep'; known: check_mirror, file_cadence_meetings, "
        "publish_weekly_reports, refresh_mirror" in unknown.output
    )
    bad_time = CliRunner().invoke(cli, ["periodic", "sweep", "--now", "tomorrow"])
    assert bad_time.exit_code == 2 and "not an ISO 8601 time" in bad_time.output


def test_a_worker_without_periodic_work_still_recovers(service: Service) -> None:
    service.create_tables()
    service.worker(periodic=False)
    assert list(service.queue.scheduled_jobs) == ["recover_deliveries"]


def test_a_worker_without_periodic_work_runs_the_rules_work_another_scheduled(
    service: Service,
) -> None:
    seen: list[Context] = []
    with_periodic_work(service, seen)
    service.create_tables()

    service.worker(periodic=False)

    assert "sweep" not in service.queue.scheduled_jobs  # the scheduler process queues it
    service.queue.runnable_jobs["sweep"].run()  # and the shared queue may hand it here
    assert len(seen) == 1 and seen[0].delivery_key == "periodic:sweep"


def test_the_data_directory_and_its_databases_are_crossdepts_alone(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    old = os.umask(0o022)  # what a shell usually has
    try:
        service = Service(make_settings(CROSSDEPT_DATA_DIR=str(data)))
        service.create_tables()
        service.queue.pending_count()
        service.store.dispose()
    finally:
        os.umask(old)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = sorted(p.name for p in data.iterdir() if p.suffix in (".db", ".db-wal", ".db-shm"))
    assert "crossdept.db" in files and "queue.db" in files
    for name in files:
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
