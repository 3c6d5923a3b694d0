"""The Jira adapter and the shared test fake both implement JiraPort, member for member."""

from __future__ import annotations

import inspect

import pytest

from plugin.atlassian.confluence_gateway import ConfluenceGateway
from plugin.atlassian.jira_gateway import JiraGateway
from plugin.atlassian.ports import ConfluencePort, JiraPort
from tests.fakes import FakeJira


def members(protocol: type) -> dict[str, inspect.Signature | None]:
    found: dict[str, inspect.Signature | None] = {}
    for name, value in vars(protocol).items():
        if name.startswith("_"):
            continue
        if callable(value):
            found[name] = inspect.signature(value)
        elif isinstance(value, property):
            found[name] = None
    for name in getattr(protocol, "__annotations__", {}):
        found.setdefault(name, None)
    return found


@pytest.mark.parametrize(
    ("implementation", "protocol"),
    [(JiraGateway, JiraPort), (FakeJira, JiraPort), (ConfluenceGateway, ConfluencePort)],
)
def test_every_port_member_is_implemented_with_the_same_parameters(
    implementation: type, protocol: type
) -> None:
    for name, signature in members(protocol).items():
        if signature is None:  # an attribute or property: set on instances or declared
            assert (
                hasattr(implementation, name) or name in implementation.__init__.__code__.co_names
            ), name
            continue
        mine = inspect.signature(getattr(implementation, name))
        assert list(mine.parameters) == list(signature.parameters), (implementation, name)
