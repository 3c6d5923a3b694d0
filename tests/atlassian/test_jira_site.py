"""A store serves one Jira: recorded at first use, any other refused in one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from plugin.atlassian.jira_site import (
    JiraMismatchError,
    JiraSite,
    check_site,
    rebind_site,
    recorded_site,
)
from plugin.spine.store import Store
from tests.fakes import REPO
from webhooks.cli import cli

CLOUD = JiraSite("https://a.atlassian.net", "Cloud", "A")
OTHER = JiraSite("https://b.atlassian.net", "Cloud", "B")


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    return sqlite_store


def test_server_info_names_the_site_by_its_own_base_url_and_deployment() -> None:
    info = {"baseUrl": "https://A.atlassian.net/", "deploymentType": "Cloud", "serverTitle": "A"}
    assert JiraSite.from_server_info(info, "https://ignored") == CLOUD
    dc = JiraSite.from_server_info({"deploymentType": "Server"}, "https://jira.example.com/")
    assert dc == JiraSite("https://jira.example.com", "Server", None)
    assert dc.describe() == "https://jira.example.com (Jira Data Center)"


def test_the_first_jira_is_recorded_and_the_same_one_passes(store: Store) -> None:
    assert recorded_site(store) is None
    check_site(store, CLOUD, 1.0)
    renamed = JiraSite(CLOUD.base_url, "Cloud", "A renamed")  # a new title is the same Jira
    assert check_site(store, renamed, 2.0) == CLOUD
    assert recorded_site(store) == CLOUD


def test_another_jira_is_refused_naming_both(store: Store) -> None:
    check_site(store, CLOUD, 1.0)
    with pytest.raises(JiraMismatchError) as raised:
        check_site(store, OTHER, 2.0)
    assert raised.value.recorded == CLOUD and raised.value.current == OTHER
    assert raised.value.retry_after == 300.0  # jobs wait for the operator; nothing is lost
    with pytest.raises(JiraMismatchError):
        check_site(store, JiraSite(CLOUD.base_url, "Server"), 3.0)  # Cloud vs Data Center


def test_rebinding_makes_the_new_address_the_stores_jira(store: Store) -> None:
    check_site(store, CLOUD, 1.0)
    assert rebind_site(store, OTHER, 2.0) == CLOUD
    check_site(store, OTHER, 3.0)
    with pytest.raises(JiraMismatchError):
        check_site(store, CLOUD, 4.0)


def _environment(monkeypatch: pytest.MonkeyPatch, url: str, data: Path) -> None:
    for name, value in {
        "CROSSDEPT_JIRA_URL": url,
        "CROSSDEPT_MARK_KEY": "test-mark-key-not-in-jira",
        "CROSSDEPT_JIRA_EMAIL": "crossdept@example.com",
        "CROSSDEPT_JIRA_API_TOKEN": "t",
        "CROSSDEPT_RULES": str(REPO / "config" / "rules.yaml"),
        "CROSSDEPT_DATA_DIR": str(data),
    }.items():
        monkeypatch.setenv(name, value)


def test_apply_against_another_jira_refuses_in_one_sentence_and_rebind_proceeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandbox.app import installed_sandbox
    from tests.fakes import ManualClock

    first, second = "https://first.atlassian.net", "https://second.atlassian.net"
    data = tmp_path / "data"
    _environment(monkeypatch, first, data)
    with installed_sandbox("sandbox/seeds/cloud.yaml", clock=ManualClock(), jira_url=first):
        used = CliRunner().invoke(cli, ["apply", "XD-1"])
    assert "serves" not in used.output  # the first Jira is recorded, whatever apply found

    _environment(monkeypatch, second, data)
    with installed_sandbox("sandbox/seeds/cloud.yaml", clock=ManualClock(), jira_url=second):
        refused = CliRunner().invoke(cli, ["apply", "XD-1"])
        rebound = CliRunner().invoke(cli, ["rebind-jira"])
        again = CliRunner().invoke(cli, ["apply", "XD-1"])

    assert refused.exit_code == 1
    (sentence,) = refused.output.strip().splitlines()
    assert f"serves {first} (Jira Cloud)" in sentence
    assert f"leads to {second} (Jira Cloud)" in sentence
    assert "crossdept rebind-jira" in sentence and "CROSSDEPT_DATA_DIR" in sentence
    assert rebound.exit_code == 0, rebound.output
    assert f"now serves {second} (Jira Cloud) (was: {first} (Jira Cloud))" in rebound.output
    assert "serves" not in again.output
