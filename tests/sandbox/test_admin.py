"""The admin endpoints doctor and setup call, as Cloud and Data Center answer them."""

from __future__ import annotations

import requests

from sandbox.app import Sandbox

from .conftest import CLOUD_URL, DC_URL

CLOUD_API = CLOUD_URL + "/rest/api/2"
CROSSDEPT_CLOUD = ("crossdept@example.com", "api-token")
PM_CLOUD = ("pm@example.com", "api-token")
CROSSDEPT_DC = {"Authorization": "Bearer sandbox-pat-crossdept"}
PM_DC = {"Authorization": "Bearer sandbox-pat-pm"}


def test_cloud_mypermissions_needs_the_keys_and_answers_only_those(cloud: Sandbox) -> None:
    asked = requests.get(
        f"{CLOUD_API}/mypermissions",
        params={"projectKey": "XD", "permissions": "TRANSITION_ISSUES,LINK_ISSUES"},
        auth=CROSSDEPT_CLOUD,
    )
    assert asked.status_code == 200
    assert {k: v["havePermission"] for k, v in asked.json()["permissions"].items()} == {
        "TRANSITION_ISSUES": True,
        "LINK_ISSUES": True,
    }
    bare = requests.get(
        f"{CLOUD_API}/mypermissions", params={"projectKey": "XD"}, auth=CROSSDEPT_CLOUD
    )
    assert bare.status_code == 400  # Cloud's document makes `permissions` required
    cloud.violations.clear()


def test_data_center_mypermissions_answers_all_even_when_asked_for_some(dc: Sandbox) -> None:
    every = requests.get(
        f"{DC_URL}/rest/api/2/mypermissions", params={"projectKey": "XD"}, headers=CROSSDEPT_DC
    )
    assert every.status_code == 200
    assert "BROWSE_PROJECTS" in every.json()["permissions"]
    cloudish = requests.get(
        f"{DC_URL}/rest/api/2/mypermissions",
        params={"projectKey": "XD", "permissions": "BROWSE_PROJECTS"},
        headers=CROSSDEPT_DC,
    )
    assert cloudish.status_code == 200  # DC has no such parameter and ignores it
    assert cloudish.json()["permissions"].keys() == every.json()["permissions"].keys()


def test_options_are_added_to_the_global_context_once(cloud: Sandbox) -> None:
    contexts = requests.get(f"{CLOUD_API}/field/customfield_10051/context", auth=CROSSDEPT_CLOUD)
    (context,) = contexts.json()["values"]
    assert context["isGlobalContext"]
    url = f"{CLOUD_API}/field/customfield_10051/context/{context['id']}/option"
    added = requests.post(url, json={"options": [{"value": "法务部"}]}, auth=CROSSDEPT_CLOUD)
    assert added.status_code == 200
    again = requests.post(url, json={"options": [{"value": "法务部"}]}, auth=CROSSDEPT_CLOUD)
    assert again.status_code == 400
    values = [o["value"] for o in requests.get(url, auth=CROSSDEPT_CLOUD).json()["values"]]
    assert values[-1] == "法务部" and values.count("法务部") == 1
    not_admin = requests.post(url, json={"options": [{"value": "人事部"}]}, auth=PM_CLOUD)
    assert not_admin.status_code == 403


def test_admin_webhooks_are_for_administrators_and_their_body_is_checked(dc: Sandbox) -> None:
    url = f"{DC_URL}/rest/webhooks/1.0/webhook"
    body = {
        "name": "crossdept",
        "url": "https://crossdept.example.com/webhooks/jira",
        "events": ["jira:issue_created"],
        "filters": {"issue-related-events-section": "project = XD"},
        "excludeBody": False,
    }
    assert requests.get(url, headers=PM_DC).status_code == 403
    created = requests.post(url, json=body, headers=CROSSDEPT_DC)
    assert created.status_code == 201
    (listed,) = requests.get(url, headers=CROSSDEPT_DC).json()
    assert listed["url"] == body["url"] and listed["filters"] == body["filters"]
    nameless = requests.post(url, json={"url": body["url"]}, headers=CROSSDEPT_DC)
    assert nameless.status_code == 400  # `name` is required
    dc.violations.clear()
