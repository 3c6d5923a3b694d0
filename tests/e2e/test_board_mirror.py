"""The board counts the item mirror, and the mirror follows Jira: people's changes through their
webhooks, crossdept's own through the minute's search, everything through the nightly read."""

from __future__ import annotations

from datetime import timedelta

from plugin.atlassian.jira_gateway import JiraGateway
from plugin.rules.reports.board_sources import read_board
from plugin.rules.reports.mirror import Mirror
from tests.e2e.conftest import FULL_TREE, MakeWorld, World


def person(world: World) -> JiraGateway:
    """Someone who works on the items (the requester on Cloud, the PM on Data Center)."""
    if world.flavour.name == "cloud":
        return JiraGateway.connect(world.flavour.url, email="requester@example.com", api_token="t")
    return JiraGateway.connect(world.flavour.url, pat="sandbox-pat-pm")


def run(world: World, task: str, **later: float) -> str:
    """One of the mirror's periodic runs (refresh_mirror, check_mirror), some time later."""
    world.clock.advance(timedelta(**later).total_seconds())
    return str(world.service.run_periodic(task, clock=world.clock.now))


def test_the_board_follows_people_crossdept_and_the_night(
    make_world: MakeWorld, flavour: str
) -> None:
    world = make_world(flavour)
    request = world.file_request(start="2026-03-02")
    world.settle()
    items = world.item_keys(request)
    context = world.service.context_for("board")
    mirror = Mirror(context.store)

    assert run(world, "refresh_mirror", minutes=30).startswith("first read")  # every item
    board = read_board(context)
    assert sum(row.items for row in board.departments) == FULL_TREE  # stages and deliverables
    assert [(p.request, p.stages) for p in board.requests] == [(request, 6)]

    # A person begins a deliverable: its webhook moves the row, before any search.
    begun = items["s1.d1"]
    assert person(world).transition_to(begun, "进行中")
    world.settle()
    row = mirror.row(begun)
    assert row is not None and row.fact.started and row.fact.request == request

    # crossdept's own change sends a webhook crossdept ignores: the minute's search brings it.
    finished = next(key for ref, key in sorted(items.items()) if ref.startswith("s2.d"))
    assert world.service.jira().transition_to(finished, "进行中")
    world.settle()
    assert not mirror.row(finished).fact.started  # type: ignore[union-attr]
    assert run(world, "refresh_mirror", minutes=1) == "changed items read: 2"
    assert mirror.row(finished).fact.started  # type: ignore[union-attr]

    # A deleted item leaves the figures at once.
    gone = next(key for ref, key in sorted(items.items()) if ref.startswith("s6.d"))
    person(world)._call("DELETE", f"/rest/api/2/issue/{gone}")
    world.settle()
    assert mirror.row(gone) is None
    assert sum(row.items for row in read_board(context).departments) == FULL_TREE - 1

    # The night's full read finds nothing the mirror had wrong.
    assert run(world, "check_mirror", days=1) == "drift: 0 missing, 0 stale, 0 extra"
