"""Authentication like Jira's, and every request checked against the official API description."""

from __future__ import annotations

import jira
import pytest
import requests

from sandbox.app import Sandbox, assert_no_violations

from .conftest import CLOUD_URL, DC_URL, PM_ACCOUNT


def test_requests_without_credentials_get_401(cloud: Sandbox) -> None:
    assert requests.get(f"{CLOUD_URL}/rest/api/2/myself").status_code == 401
    assert (
        requests.get(f"{CLOUD_URL}/rest/api/2/serverInfo").status_code == 200
    )  # anonymous on real Jira too


def test_cloud_accepts_email_or_account_id_and_refuses_strangers(cloud: Sandbox) -> None:
    me = requests.get(f"{CLOUD_URL}/rest/api/2/myself", auth=(PM_ACCOUNT, "token")).json()
    assert me["displayName"] == "Example Project Manager (项目经理)"
    assert requests.get(f"{CLOUD_URL}/rest/api/2/myself", auth=("pm", "token")).status_code == 401
    assert (
        requests.get(f"{CLOUD_URL}/rest/api/2/myself", auth=("x@example.org", "t")).status_code
        == 401
    )
    bearer = {"Authorization": "Bearer sandbox-pat-pm"}
    assert requests.get(f"{CLOUD_URL}/rest/api/2/myself", headers=bearer).status_code == 401


def test_data_center_accepts_username_or_pat(dc: Sandbox) -> None:
    assert requests.get(f"{DC_URL}/rest/api/2/myself", auth=("pm", "x")).json()["name"] == "pm"
    bad = {"Authorization": "Bearer not-a-token"}
    assert requests.get(f"{DC_URL}/rest/api/2/myself", headers=bad).status_code == 401
    with pytest.raises(jira.JIRAError) as refused:
        jira.JIRA(DC_URL, token_auth="not-a-token", max_retries=0).myself()
    assert refused.value.status_code == 401


def test_a_request_the_spec_forbids_is_refused_and_recorded(cloud: Sandbox) -> None:
    response = requests.post(
        f"{CLOUD_URL}/rest/api/2/issue/XD-1/comment",
        json={"body": {"type": "doc"}},
        auth=("pm@example.com", "t"),
    )
    assert response.status_code == 400
    assert "wiki-markup string" in response.json()["errorMessages"][0]
    [violation] = cloud.violations
    assert violation.path == "/rest/api/2/issue/XD-1/comment"
    with pytest.raises(AssertionError, match="real API would refuse"):
        assert_no_violations(cloud)
    cloud.violations.clear()  # the fixture would otherwise fail this test on purpose


def test_calls_are_recorded_for_counting(cloud_jira: jira.JIRA, cloud: Sandbox) -> None:
    cloud_jira.myself()
    assert [(c.method, c.path, c.status) for c in cloud.calls][-1] == (
        "GET",
        "/rest/api/2/myself",
        200,
    )


def test_an_address_or_method_the_api_lacks_is_a_404_or_a_405_as_on_the_real_site(
    cloud: Sandbox,
) -> None:
    auth = ("pm@example.com", "t")
    missing = requests.get(f"{CLOUD_URL}/jira/rest/api/2/myself", auth=auth)  # a context path
    assert missing.status_code == 404, missing.text
    wrong = requests.delete(f"{CLOUD_URL}/rest/api/2/issue/XD-1/transitions", auth=auth)
    assert wrong.status_code == 405, wrong.text
    assert len(cloud.violations) == 2
    cloud.violations.clear()  # the fixture would otherwise fail this test on purpose
