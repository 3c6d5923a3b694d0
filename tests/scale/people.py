"""The people of the storm: requesters filing and editing requests, contacts answering, meetings held.

Everything here goes through Jira's REST API as the person, so every webhook the service sees is
one the sandbox sent for a real change.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import jira

from plugin.process.wording import mention
from plugin.spine.errors import TransientGatewayError
from tests.scale.cluster import Cluster

T = TypeVar("T")
MEETING_EVERY = 10  # one meeting for every tenth request


@dataclass
class Storm:
    """What the people did, for the test to check against."""

    requests: list[str] = field(default_factory=list)
    asked: dict[str, str] = field(default_factory=dict)  # request -> the contact asked there
    answered: set[str] = field(default_factory=set)  # requests whose contact answered
    meetings: dict[str, str] = field(default_factory=dict)  # meeting -> its request


def person(cluster: Cluster, login: str) -> jira.JIRA:
    """A Jira client logged in as one of the seed's people (the sandbox checks who, not how)."""
    user = next(u for u in cluster.sandbox.seed.users if u.login == login)
    return jira.JIRA(
        cluster.server.url,
        basic_auth=(user.email if cluster.cloud else user.login, secrets.token_urlsafe(12)),
        max_retries=0,
        options={"check_update": False},
        get_server_info=False,
    )


def login_of(cluster: Cluster, account: str) -> str:
    """The seed login of a person as the rules name them (Data Center rules use the login)."""
    if not cluster.cloud:
        return account
    return next(u.login for u in cluster.sandbox.seed.users if u.account_id == account)


def user_ref(cluster: Cluster, account: str) -> dict[str, str]:
    """A user as Jira takes one in a field: {"accountId"} on Cloud, {"name"} on Data Center."""
    return {"accountId": account} if cluster.cloud else {"name": account}


def file_requests(cluster: Cluster, count: int, start: date, storm: Storm) -> None:
    """The requester files `count` requests, 50 to a bulk call; each involves one more department."""
    rules = cluster.rules
    fields_of = rules.jira.request.fields
    departments = list(rules.departments)
    payloads = []
    for number in range(count):
        fields: dict[str, Any] = {
            "project": {"key": rules.jira.projects[0]},
            "issuetype": {"name": rules.jira.request.issue_type},
            "summary": f"压力测试需求 {number + 1}",
            fields_of.requesting_department: {"value": departments[0]},
            fields_of.departments: [{"value": departments[1 + number % 3]}],
        }
        if fields_of.start:
            fields[fields_of.start] = start.isoformat()
        payloads.append({"fields": fields})
    for first in range(0, count, 50):
        chunk = payloads[first : first + 50]
        result = patiently(lambda chunk=chunk: cluster.requester.create_bulk(chunk))
        assert not result.refused, result.refused
        storm.requests += [result.created[i].key for i in sorted(result.created)]


def patiently(call: Callable[[], T]) -> T:
    """A person trying again after Jira's Retry-After, when Jira is too busy (429) or down."""
    for _ in range(60):
        try:
            return call()
        except TransientGatewayError as error:
            time.sleep(error.retry_after or 1.0)
    return call()


def in_parallel(work: Iterable[Callable[[], None]], threads: int = 4) -> None:
    """Run the people's actions side by side, as many people at once would."""
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(action) for action in work]:
            future.result()


def work_on_requests(cluster: Cluster, storm: Storm, *, edits: int = 4) -> None:
    """Edits, a department added, asks in comments, plain comments and answers, side by side."""
    rules = cluster.rules
    fields_of = rules.jira.request.fields
    departments = list(rules.departments)
    requester = person(cluster, "requester")
    work: list[Callable[[], None]] = []

    def edit(key: str, round_: int) -> None:
        requester.issue(key, fields="summary").update(
            fields={"description": f"目标与范围（第 {round_ + 1} 版）"}
        )

    def add_department(key: str, number: int) -> None:
        both = [departments[1 + number % 3], departments[1 + (number + 1) % 3]]
        requester.issue(key, fields="summary").update(
            fields={fields_of.departments: [{"value": name} for name in both]}
        )

    def ask(key: str, contact: str) -> None:
        requester.add_comment(
            key, f"{mention(contact, cloud=cluster.cloud)} 请确认贵部门的资源安排。"
        )

    def remark(key: str, round_: int) -> None:
        requester.add_comment(key, f"进展备注 {round_ + 1}：资料已上传。")

    def answer(key: str, contact: str) -> None:
        person(cluster, login_of(cluster, contact)).add_comment(key, "已确认，资源到位。")

    for number, key in enumerate(storm.requests):
        contact = rules.departments[departments[1 + number % 3]].contact
        storm.asked[key] = contact
        work += [lambda k=key, r=r: edit(k, r) for r in range(edits)]
        work += [lambda k=key, c=contact: ask(k, c)]
        work += [lambda k=key, r=r: remark(k, r) for r in range(2)]
        if number % 10 == 5:
            work.append(lambda k=key, n=number: add_department(k, n))
        if number % 4 == 0:
            storm.answered.add(key)
    in_parallel(work)
    # Answers come after the asks they answer (a reply before the ask answers nothing).
    answers = [lambda k=key, c=storm.asked[key]: answer(k, c) for key in sorted(storm.answered)]
    in_parallel(answers)


def hold_meetings(
    cluster: Cluster, storm: Storm, start: datetime, *, every: int = MEETING_EVERY
) -> None:
    """Every tenth request has a meeting: created, linked, its record commented, then held."""
    rules = cluster.rules
    meetings = rules.meetings
    assert meetings is not None
    requester = person(cluster, "requester")
    engineering, finance = rules.departments["技术部"], rules.departments["财务部"]

    def meeting_for(key: str, number: int) -> None:
        issue = requester.create_issue(
            fields={
                "project": {"key": rules.jira.projects[0]},
                "issuetype": {"name": meetings.issue_type},
                "summary": f"协调会 {number}",
                "description": "议程：\n1. 确认分工\n2. 确认时间表",
                meetings.fields.start: start.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                meetings.fields.attendees: [
                    user_ref(cluster, engineering.contact),
                    user_ref(cluster, finance.contact),
                ],
            }
        )
        meeting = str(issue.key)
        storm.meetings[meeting] = key
        cluster.requester.link_issues(meeting, key)
        day = start.date()
        requester.add_comment(
            meeting,
            "会议记录\n"
            f"* 决议：第 {number} 号需求按计划推进\n"
            f"* 待办：{mention(engineering.contact, cloud=cluster.cloud)} "
            f"{(day + timedelta(days=7)).isoformat()} 提交技术方案\n"
            f"* 待办：{mention(finance.contact, cloud=cluster.cloud)} "
            f"{(day + timedelta(days=10)).isoformat()} 完成预算复核\n"
            f"记录人：{mention(engineering.head, cloud=cluster.cloud)}",
        )
        held = next(
            t["id"]
            for t in requester.transitions(meeting)
            if t["to"]["name"] == meetings.held_status
        )
        requester.transition_issue(meeting, held)

    chosen = [
        (key, number) for number, key in enumerate(storm.requests) if number % every == every - 1
    ]
    in_parallel([lambda k=key, n=number: meeting_for(k, n) for key, number in chosen])


def now_plus(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat(timespec="seconds")
