"""Lease holders: one format everywhere, unique to each run, so two workers never share one."""

from __future__ import annotations

import os
import socket

import pytest

from plugin.spine.leases import HOLDER_MAX, Leases, holder_pid, new_holder
from plugin.spine.store import Store


def test_a_holder_names_its_purpose_machine_and_process_and_is_never_reused() -> None:
    first, second = new_holder("sweep_asks"), new_holder("sweep_asks")
    assert first != second
    assert first.startswith(f"sweep_asks@{socket.gethostname()}:{os.getpid()}.")
    assert "@" not in new_holder()  # without a purpose: just where it runs


def test_a_long_host_name_is_cut_so_every_holder_fits_its_column(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "worker-3." + "very-long-domain." * 8)
    first, second = new_holder("minutes"), new_holder("minutes")
    assert len(first) <= HOLDER_MAX and len(second) <= HOLDER_MAX
    assert first.startswith("minutes@worker-3.") and first != second
    assert f":{os.getpid()}." in first  # what makes it unique is kept whole


def test_the_process_holding_a_claim_is_read_back_from_its_holder_name() -> None:
    assert holder_pid(new_holder("delivery")) == os.getpid()
    assert holder_pid(new_holder()) == os.getpid()
    assert holder_pid("someone-else") is None


def test_two_holders_of_the_same_purpose_do_not_share_a_lease(sqlite_store: Store) -> None:
    leases = Leases(sqlite_store)
    assert leases.take("sweep_asks", new_holder("sweep_asks"), now=0.0, seconds=60)
    assert not leases.take("sweep_asks", new_holder("sweep_asks"), now=1.0, seconds=60)
