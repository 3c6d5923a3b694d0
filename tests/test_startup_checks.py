"""Start-up checks Jira's and Confluence's logins once: a wrong one stops start-up naming the
settings to fix; a service that is down is said, and start-up goes on."""

from __future__ import annotations

import os

import pytest

from sandbox.app import installed_sandbox
from tests.cli.test_report import CLOUD_SEED, DC_SEED, site_env  # noqa: F401 - the fixture
from tests.fakes import ManualClock
from webhooks.cli.service import check_logins_at_start
from webhooks.service import Service
from webhooks.settings import load_settings

pytestmark = pytest.mark.usefixtures("restore_logging")


def start(monkeypatch: pytest.MonkeyPatch, cloud: bool, **wrong: str) -> None:
    for name, value in wrong.items():
        monkeypatch.setenv(name, value)
    seed = CLOUD_SEED if cloud else DC_SEED
    with installed_sandbox(seed, clock=ManualClock(), jira_url=os.environ["CROSSDEPT_JIRA_URL"]):
        check_logins_at_start(service())


def service() -> Service:
    started = Service(load_settings(require_webhook=False))
    started.create_tables()  # as serve and worker do before the check
    return started


def test_a_right_login_starts_quietly(
    site_env: bool,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    start(monkeypatch, site_env)
    assert capsys.readouterr().err == ""


def test_a_wrong_jira_login_stops_start_up_naming_its_settings(
    site_env: bool,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The Cloud sandbox checks who logs in, not the API token: a wrong account is refused.
    secret = "CROSSDEPT_JIRA_EMAIL" if site_env else "CROSSDEPT_JIRA_PAT"
    with pytest.raises(SystemExit):
        start(monkeypatch, site_env, **{secret: "not-the-token"})
    said = capsys.readouterr().err
    assert (
        "GET /rest/api/2/myself: HTTP 401 from Jira at " + os.environ["CROSSDEPT_JIRA_URL"] in said
    )
    assert "Jira refused crossdept's login (check " in said and secret in said
    assert "not-the-token" not in said


def test_a_wrong_confluence_login_stops_start_up_too(
    site_env: bool,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = "CROSSDEPT_CONFLUENCE_EMAIL" if site_env else "CROSSDEPT_CONFLUENCE_PAT"
    login = {secret: "not-the-token"}
    if site_env:
        login["CROSSDEPT_CONFLUENCE_API_TOKEN"] = "t"
    with pytest.raises(SystemExit):
        start(monkeypatch, site_env, **login)
    said = capsys.readouterr().err
    assert "HTTP 401 from Confluence at " in said and "CROSSDEPT_CONFLUENCE_URL" in said
    assert "Confluence refused crossdept's login (check " in said and secret in said


def test_a_jira_that_is_down_is_said_and_start_up_goes_on(
    site_env: bool,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CROSSDEPT_JIRA_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("CROSSDEPT_CONFLUENCE_URL")
    check_logins_at_start(service())
    said = capsys.readouterr().err
    assert "Jira at http://127.0.0.1:9 did not answer (check CROSSDEPT_JIRA_URL)" in said
    assert "starting anyway" in said


def test_a_jira_that_refuses_the_first_call_is_said_as_a_refusal_not_an_outage(
    site_env: bool,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Jira answered, so it is not down: a refusal at a wrong address (a missing context path) is
    said as what Jira answered, and start-up goes on."""
    url = os.environ["CROSSDEPT_JIRA_URL"]
    seed = CLOUD_SEED if site_env else DC_SEED
    with installed_sandbox(seed, clock=ManualClock(), jira_url=url) as sandbox:
        monkeypatch.setenv("CROSSDEPT_JIRA_URL", url + "/no-jira-here")
        monkeypatch.delenv("CROSSDEPT_CONFLUENCE_URL")
        check_logins_at_start(service())
        sandbox.violations.clear()  # the wrong address is the point here
    said = capsys.readouterr().err
    assert "HTTP 404 from Jira at " + url + "/no-jira-here" in said, said
    assert "did not answer" not in said and "did not answer" not in caplog.text
    assert "refused crossdept's first call" in caplog.text
    assert "starting anyway" in said
