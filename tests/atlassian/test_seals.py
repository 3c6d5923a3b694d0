"""A seal checks only for the value, the property and the issue crossdept sealed it for."""

from __future__ import annotations

from plugin.atlassian.seals import MarkSeal

SEAL = MarkSeal("a-key-jira-never-holds")


def test_a_sealed_value_opens_to_itself_without_its_seal() -> None:
    sealed = SEAL.seal("crossdept.tree", {"items": {"s1": "XD-2"}}, "XD-1")
    assert sealed["seal"].startswith("v1:")
    assert SEAL.open("crossdept.tree", sealed, "XD-1") == {"items": {"s1": "XD-2"}}


def test_key_order_and_sealing_twice_make_no_difference() -> None:
    sealed = SEAL.seal("crossdept.item", {"ref": "s1", "request": "XD-1"})
    again = SEAL.seal("crossdept.item", {"request": "XD-1", "ref": "s1", "seal": "v1:old"})
    assert sealed == again


def test_a_changed_value_property_or_issue_does_not_open() -> None:
    sealed = SEAL.seal("crossdept.tree", {"items": {"s1": "XD-2"}}, "XD-1")
    assert SEAL.open("crossdept.tree", {**sealed, "items": {"s1": "XD-9"}}, "XD-1") is None
    assert SEAL.open("crossdept.comments", sealed, "XD-1") is None
    assert SEAL.open("crossdept.tree", sealed, "XD-5") is None  # copied to another issue


def test_no_seal_a_foreign_seal_or_another_key_does_not_open() -> None:
    assert SEAL.open("crossdept.item", {"request": "XD-1", "ref": "s1"}) is None
    assert SEAL.open("crossdept.item", {"request": "XD-1", "ref": "s1", "seal": 7}) is None
    assert SEAL.open("crossdept.item", "XD-1") is None
    other = MarkSeal("another-key-entirely").seal("crossdept.item", {"ref": "s1"})
    assert SEAL.open("crossdept.item", other) is None
