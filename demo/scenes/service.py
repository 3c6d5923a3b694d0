"""What every rule rides on: the service starting, a request filed as a user would, and the
webhook it causes, queued and processed."""

from __future__ import annotations

from datetime import date
from typing import Any

from demo.harness import REQUEST_SUMMARY, Demo, DemoError, count_of, next_monday
from plugin.spine.deliveries import Delivery, DeliveryState
from plugin.spine.errors import RefusedError


def scene_started(demo: Demo) -> None:
    """1. Say what runs, and how crossdept was configured."""
    flavour = "Jira Cloud" if demo.seed.is_cloud else "Jira Data Center"
    login = (
        "the crossdept account's email and API token"
        if demo.seed.is_cloud
        else "the crossdept account's personal access token"
    )
    demo.say("1. Started on this machine (nothing leaves it)")
    rules = (
        f"the rules file {demo.rules_path}"
        if demo.options.rules
        else "the shipped rules file config/rules.yaml"
    )
    if not demo.seed.is_cloud:
        rules += " with its people as Data Center usernames"
    sandbox, service = f"{flavour} sandbox", "crossdept serve"
    width = max(len(sandbox), len(service)) + 2
    demo.say(f"   {sandbox.ljust(width)}{demo.sandbox_server.url}  (a stand-in Jira, test users)")
    demo.say(f"   {service.ljust(width)}{demo.service_url}  (web edge + queue worker)")
    demo.say("   crossdept is set up as for a real Jira, only through CROSSDEPT_* variables:")
    demo.say(f"   the sandbox's URL, {login}, a generated webhook secret,")
    demo.say(f"   and {rules}.")
    demo.say("")
    demo.summary["flavour"] = demo.flavour
    demo.summary["sandbox_url"] = demo.sandbox_server.url
    demo.summary["service_url"] = demo.service_url


def scene_request_filed(demo: Demo) -> None:
    """2. The requester files a collaboration request through Jira's REST API."""
    rules = demo.rules
    calendar = rules.work_calendar
    # A request starts on a working day: next Monday, or the first working day after it.
    start = calendar.next_working_day(demo.options.start or next_monday(date.today()))
    demo.start = start
    fields_of = rules.jira.request.fields
    departments = list(rules.departments)[:4]
    requesting, collaborating = departments[0], departments[1:]
    fields: dict[str, Any] = {
        "project": {"key": rules.jira.projects[0]},
        "issuetype": {"name": rules.jira.request.issue_type},
        "summary": REQUEST_SUMMARY,
        "description": "目标：Q1 新品 X 上市推广，市场部牵头，技术、产品、财务配合。",
        fields_of.requesting_department: {"value": requesting},
        fields_of.departments: [{"value": name} for name in collaborating],
    }
    if fields_of.start:
        fields[fields_of.start] = start.isoformat()
    demo.calls_before_request = len(demo.sandbox.calls)
    # Jira sometimes delivers a webhook twice (a lost acknowledgement): make the next one so.
    demo.sandbox.duplicate_next(1)
    try:
        result = demo.requester.create_bulk([{"fields": fields}])
    except RefusedError as error:
        raise DemoError(f"Jira refused the request: {error.reason()}") from None
    if result.refused:
        raise DemoError(f"Jira refused the request: {result.refused[0].reason()}")
    key = result.created[0].key
    demo.request_key = key
    reporter = demo.requester.get_issue(key, ["reporter"])["fields"].get("reporter") or {}
    demo.say("2. A collaboration request is filed in Jira")
    demo.say(f"   {key}  {REQUEST_SUMMARY}  ({rules.jira.request.issue_type})")
    demo.say(f"   by {reporter.get('displayName')}, through the Jira REST API")
    demo.say(f"   需求部门 {requesting}; 协作部门 {', '.join(collaborating)}; start {start}")
    demo.say("")
    demo.summary["request"] = {
        "key": key,
        "summary": REQUEST_SUMMARY,
        "reporter": reporter.get("displayName"),
        "requesting_department": requesting,
        "departments": collaborating,
        "start": start.isoformat(),
    }


def scene_webhook_processed(demo: Demo) -> None:
    """3. Jira's webhook reaches the service, which queues a job; the worker processes it."""
    key = demo.request_key

    def creation() -> Delivery | None:
        return next(
            (j for j in demo.jobs() if j.event == "jira:issue_created" and j.issue == key), None
        )

    def finished() -> bool:
        job = creation()
        if job is not None and job.state == DeliveryState.FAILED:
            raise DemoError(f"the job for {key} failed: {job.last_error}" + demo.log_tail())
        return job is not None and job.state == DeliveryState.DONE

    seconds = demo.wait_for(f"the tree of {key}", finished)
    demo.settle()
    job = creation()
    assert job is not None
    first = next(a for a in demo.answers if a.identifier == job.key and a.retry == 0)
    demo.say("3. Jira's webhook arrives; crossdept queues it and a worker processes it")
    demo.say(
        f"   {first.event} for {key}, delivery {job.key}: answered {first.status} {first.outcome}"
    )
    demo.say(
        f"   job {job.id}: {job.state.value} after {count_of(job.attempts, 'attempt')}, "
        f"{seconds:.1f} s after filing (`crossdept jobs` lists it)"
    )
    demo.say("")
    demo.summary["delivery"] = {
        "id": job.id,
        "key": job.key,
        "event": job.event,
        "issue": job.issue,
        "state": job.state.value,
        "attempts": job.attempts,
        "answer": {"status": first.status, "outcome": first.outcome},
        "seconds_to_tree": round(seconds, 2),
    }


def finished(demo: Demo, before: int, count: int) -> bool:
    jobs = demo.jobs()[before:]
    done = [job for job in jobs if job.state.value in ("done", "failed")]
    return len(done) >= count and len(done) == len(jobs)
