"""What crossdept remembers of each tree: one builder at a time, intents before creates, keys after."""

from __future__ import annotations

from plugin.rules.trees.tree_records import TreeRecords
from plugin.spine.store import Store


def test_one_holder_at_a_time_until_its_lease_expires_or_it_releases(store: Store) -> None:
    records = TreeRecords(store)
    assert records.status("XD-1") is None
    assert records.claim("XD-1", "w1", now=100.0, lease_seconds=300)
    assert records.claim("XD-1", "w1", now=150.0, lease_seconds=300)  # ours: renewed
    assert not records.claim("XD-1", "w2", now=200.0, lease_seconds=300)
    assert records.lease_left("XD-1", now=200.0) == 250.0
    assert records.claim("XD-1", "w2", now=451.0, lease_seconds=300)  # w1 died: taken over

    records.release("XD-1", "w1", "complete", now=460.0)  # a late release by the dead: ignored
    assert records.status("XD-1") == "building"
    records.release("XD-1", "w2", "complete", now=470.0, digest="abc")
    assert records.status("XD-1") == "complete"
    assert records.lease_left("XD-1", now=470.0) == 0.0


def test_intents_come_before_keys_and_refusals_drop_only_intents(store: Store) -> None:
    records = TreeRecords(store)
    records.intend("XD-1", ["s1", "s2", "s3"], now=10.0)
    records.record_created("XD-1", {"s1": "XD-2"}, now=11.0)
    records.drop_intents("XD-1", ["s1", "s2"])  # s1 has a key: kept

    items = records.items("XD-1")
    assert {ref: item.issue_key for ref, item in items.items()} == {"s1": "XD-2", "s3": None}
    records.intend("XD-1", ["s1", "s3"], now=20.0)  # s1 is created: its key stays
    assert records.items("XD-1")["s1"].issue_key == "XD-2"
    assert records.items("XD-1")["s3"].intended_at == 20.0


def test_records_jira_contradicts_are_forgotten_whole(store: Store) -> None:
    records = TreeRecords(store)
    records.record_created("XD-1", {"s1": "XD-2", "s2": "XD-3"}, now=1.0)
    records.record_created("XD-9", {"s1": "XD-10"}, now=1.0)
    records.forget_items("XD-1", ["s1"])
    records.forget_items("XD-1", [])
    assert set(records.items("XD-1")) == {"s2"}
    assert set(records.items("XD-9")) == {"s1"}
