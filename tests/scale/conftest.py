"""One cluster per test, on each backend: SQLite, and PostgreSQL + Redis when the tests have them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.scale.cluster import Backend, Cluster, StartCluster, backend_named


@pytest.fixture(params=["sqlite", "postgresql+redis"])
def backend(request: pytest.FixtureRequest) -> Backend:
    return backend_named(request.param)


@pytest.fixture
def start_cluster(backend: Backend, tmp_path: Path) -> Iterator[StartCluster]:
    """Start a cluster: `start_cluster(latency_ms=20, configure=lambda c: ...)`; stopped after."""
    started: list[Cluster] = []

    def start(
        *, configure: Callable[[Cluster], Any] = lambda _cluster: None, **options: Any
    ) -> Cluster:
        cluster = Cluster(tmp_path, backend, **options)
        started.append(cluster)
        configure(cluster)
        return cluster.start()

    yield start
    for cluster in started:
        cluster.stop()
