"""/healthz tells the load balancer whether store and queue work; /metrics feeds Prometheus."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from plugin.spine import metrics
from plugin.spine.inbox import Inbox
from plugin.spine.queue import make_queue
from plugin.spine.store import Store, health_probe
from tests.conftest import load_sample, signed_post
from webhooks.settings import Settings
from webhooks.web.app import create_app

ISSUE_CREATED = load_sample("jira_issue_created__mattermost_mattermost-plugin-jira__2")


def samples(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def deliveries(
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float], outcome: str, reason: str = ""
) -> float:
    return found.get(
        ("crossdept_deliveries_total", (("outcome", outcome), ("reason", reason))), 0.0
    )


def test_healthz_is_ok_when_store_and_queue_work(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "store": "ok",
        "store_writes": "ok",
        "queue": "ok",
    }


def test_healthz_names_a_failing_store(settings: Settings, inbox: Inbox, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    broken = Store(f"sqlite:///{tmp_path}/a-file/nothing.db")
    client = create_app(settings, inbox=Inbox(broken, inbox.queue)).test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "store": "failing",
        "store_writes": "failing",
        "queue": "ok",
    }


def test_healthz_names_a_store_that_answers_but_cannot_write(
    settings: Settings, inbox: Inbox, tmp_path: Path
) -> None:
    path = tmp_path / "read-only.db"
    Store(f"sqlite:///{path}").create_all([health_probe])
    read_only = Store(f"sqlite:///file:{path}?mode=ro&uri=true")
    client = create_app(settings, inbox=Inbox(read_only, inbox.queue)).test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "store": "ok",
        "store_writes": "failing",
        "queue": "ok",
    }


def test_healthz_names_a_failing_queue(settings: Settings, inbox: Inbox) -> None:
    unreachable = make_queue("redis://127.0.0.1:9/0", name=f"t{uuid.uuid4().hex}")
    client = create_app(settings, inbox=Inbox(inbox.store, unreachable)).test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "store": "ok",
        "store_writes": "ok",
        "queue": "failing",
    }


def test_metrics_count_deliveries_by_outcome_and_reason(client: FlaskClient) -> None:
    before = samples(client)
    signed_post(client, ISSUE_CREATED, delivery="m-1")
    signed_post(client, ISSUE_CREATED, delivery="m-1")
    signed_post(client, ISSUE_CREATED, secret="forged")
    signed_post(client, b"{nope")
    after = samples(client)
    assert deliveries(after, "accepted") - deliveries(before, "accepted") == 1
    assert deliveries(after, "duplicate") - deliveries(before, "duplicate") == 1
    assert (
        deliveries(after, "rejected", "signature") - deliveries(before, "rejected", "signature")
        == 1
    )
    assert deliveries(after, "rejected", "payload") - deliveries(before, "rejected", "payload") == 1


def test_metrics_report_the_queue_depth(client: FlaskClient) -> None:
    assert samples(client)[("crossdept_queue_depth", ())] == 0
    signed_post(client, ISSUE_CREATED)
    signed_post(client, load_sample("comment_created__mattermost_mattermost-plugin-jira__1"))
    assert samples(client)[("crossdept_queue_depth", ())] == 2


def test_metrics_carry_job_latency_and_jira_calls(client: FlaskClient) -> None:
    before = samples(client)
    metrics.observe_job(0.3, "done")
    metrics.observe_jira_call("/rest/api/2/issue/XD-12/comment/10001", "post", 201)
    after = samples(client)
    count = ("crossdept_job_seconds_count", (("outcome", "done"),))
    assert after[count] - before.get(count, 0) == 1
    call = (
        "crossdept_jira_calls_total",
        (
            ("endpoint", "/rest/api/2/issue/{key}/comment/{id}"),
            ("method", "POST"),
            ("status", "201"),
        ),
    )
    assert after[call] - before.get(call, 0) == 1


def test_endpoint_templates_keep_label_values_few() -> None:
    assert (
        metrics.endpoint_template("/rest/api/2/issue/XD-12?expand=names")
        == "/rest/api/2/issue/{key}"
    )
    assert metrics.endpoint_template("/wiki/api/v2/pages/98765") == "/wiki/api/v2/pages/{id}"
    assert metrics.endpoint_template("/rest/api/3/myself") == "/rest/api/3/myself"


def test_several_processes_share_their_metrics(tmp_path: Path) -> None:
    # prometheus_client chooses its storage at import, so each process starts fresh with the variable.
    script = textwrap.dedent(
        """
        import sys
        from plugin.spine import metrics
        if sys.argv[1] == "count":
            metrics.observe_delivery("accepted", "", 0.002)
            metrics.observe_jira_call("/rest/api/2/issue/XD-1", "GET", 200)
        else:
            assert metrics.multiprocess_mode()
            text, _ = metrics.render_metrics(extra=[metrics.QueueDepthCollector(lambda: 5)])
            sys.stdout.write(text.decode())
        """
    )
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script, "count"], env=env, check=True, timeout=60)
    shown = subprocess.run(
        [sys.executable, "-c", script, "show"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert 'crossdept_deliveries_total{outcome="accepted",reason=""} 2.0' in shown
    assert (
        'crossdept_jira_calls_total{endpoint="/rest/api/2/issue/{key}",method="GET",status="200"} 2.0'
        in shown
    )
    assert "crossdept_queue_depth 5.0" in shown


def test_healthz_reports_whether_jira_answers_without_ever_failing_for_it(
    settings: Settings, inbox: Inbox
) -> None:
    from plugin.spine.errors import RefusedError, TransientGatewayError

    answers: list[Exception | None] = [None]

    def check() -> None:
        if answers[0] is not None:
            raise answers[0]

    app = create_app(settings, inbox=inbox, jira_check=check)
    probe = app.extensions["crossdept"].jira
    client = app.test_client()

    def jira_state() -> tuple[int, str]:
        response = client.get("/healthz")
        return response.status_code, response.get_json()["jira"]

    first = client.get("/healthz").get_json()["jira"]
    assert first in ("checking", "ok")  # the probe runs beside the answer, never before it
    wait_for(lambda: probe.state() == "ok")
    assert jira_state() == (200, "ok")

    for error, said in (
        (
            TransientGatewayError("GET /rest/api/2/myself: no response from Jira at x"),
            "unreachable",
        ),
        (RefusedError("GET /rest/api/2/myself: HTTP 401", 401), "login refused"),
    ):
        answers[0] = error
        probe._checked_at = None  # a minute has passed
        probe.state()
        wait_for(lambda expected=said: bool(probe.state() == expected))
        assert jira_state() == (200, said)  # Jira down: deliveries still stored, edge healthy


def wait_for(condition: Callable[[], bool]) -> None:
    import time

    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "the probe did not finish"
        time.sleep(0.01)


def test_the_deep_check_asks_jira_now_and_fails_when_it_refuses_or_is_away(
    settings: Settings, inbox: Inbox
) -> None:
    from plugin.spine.errors import RefusedError, TransientGatewayError

    answers: list[Exception | None] = [None]
    calls: list[int] = []

    def check() -> None:
        calls.append(1)
        if answers[0] is not None:
            raise answers[0]

    app = create_app(settings, inbox=inbox, jira_check=check)
    probe = app.extensions["crossdept"].jira
    client = app.test_client()
    response = client.get("/healthz?deep=1")
    assert (response.status_code, response.get_json()) == (
        200,
        {"status": "ok", "store": "ok", "store_writes": "ok", "queue": "ok", "jira": "ok"},
    )
    assert client.get("/readyz").status_code == 200
    assert len(calls) == 1  # a monitor calling often costs Jira one login check per 10 s

    for error, said in (
        (RefusedError("GET /rest/api/2/myself: HTTP 401", 401), "login refused"),
        (TransientGatewayError("GET /rest/api/2/myself: no response"), "unreachable"),
    ):
        answers[0] = error
        probe._checked_at = None  # ten seconds have passed
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.get_json()["jira"] == said
        assert client.get("/healthz").status_code == 200  # the shallow check still passes


def test_without_jira_configured_the_deep_check_is_store_and_queue(client: FlaskClient) -> None:
    response = client.get("/healthz?deep=1")
    assert response.status_code == 200
    assert "jira" not in response.get_json()


def test_a_deep_check_during_a_background_probe_gives_that_probes_answer(
    settings: Settings, inbox: Inbox
) -> None:
    import threading

    release = threading.Event()
    calls: list[int] = []

    def slow_check() -> None:
        calls.append(1)
        assert release.wait(5)

    app = create_app(settings, inbox=inbox, jira_check=slow_check)
    client = app.test_client()
    assert client.get("/healthz").get_json()["jira"] == "checking"  # the probe is under way
    wait_for(lambda: len(calls) == 1)
    answers: list[tuple[int, str]] = []
    deep = threading.Thread(
        target=lambda: answers.append(
            (lambda r: (r.status_code, r.get_json()["jira"]))(app.test_client().get("/readyz"))
        )
    )
    deep.start()
    deep.join(0.3)  # give it time to ask while the probe is under way
    release.set()
    deep.join(5)
    assert answers == [(200, "ok")]  # not "checking" (503) from before the probe answered
    assert len(calls) == 1  # and Jira was asked once
