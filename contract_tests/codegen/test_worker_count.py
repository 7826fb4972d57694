"""The code generator's worker count: the idle CPUs, counting its own process as busy."""

from __future__ import annotations

import pytest

from codegen import generate as gen

MANY = 500  # models: enough for any number of workers here
PER_WORKER = gen.PARALLEL_FROM // 2


@pytest.mark.parametrize(
    ("cpus", "load", "count", "workers"),
    [
        # idle machines: the load average is (about) this process alone
        (2, 0.0, MANY, 2),
        (2, 1.0, MANY, 2),
        (2, 1.2, MANY, 2),
        (4, 1.0, MANY, 4),
        (8, 0.9, MANY, 8),
        (2, None, MANY, 2),  # no load average on this platform: taken as idle
        # others running: one CPU left for us, then none
        (2, 1.6, MANY, 1),
        (2, 2.0, MANY, 1),
        (2, 6.0, MANY, 1),
        (4, 2.0, MANY, 3),
        (4, 3.4, MANY, 2),
        (4, 9.0, MANY, 1),
        (8, 5.0, MANY, 4),
        # one CPU: always one
        (1, 0.0, MANY, 1),
        (1, 3.0, MANY, 1),
        # few models: a worker gets at least PARALLEL_FROM // 2 of them
        (8, 0.0, PER_WORKER * 2, 2),
        (8, 0.0, PER_WORKER * 3 - 1, 2),
        (8, 0.0, PER_WORKER - 1, 1),
    ],
)
def test_worker_count(cpus: int, load: float | None, count: int, workers: int) -> None:
    assert gen.worker_count(cpus, load, count) == workers


def test_never_more_than_cpus_nor_fewer_than_one() -> None:
    for cpus in range(1, 17):
        for tenth in range(0, 400):
            got = gen.worker_count(cpus, tenth / 10, MANY)
            assert 1 <= got <= cpus
            # a busier machine never gets more workers
            assert got >= gen.worker_count(cpus, tenth / 10 + 0.1, MANY)


def test_workers_reads_the_load_average(monkeypatch: pytest.MonkeyPatch) -> None:
    """``_workers`` passes this machine's CPUs and 1-minute load average to the rule."""
    monkeypatch.delenv("CODEGEN_WORKERS", raising=False)
    monkeypatch.setattr(gen.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(gen.os, "getloadavg", lambda: (1.0, 3.0, 3.0))
    assert gen._workers(MANY) == 2
    monkeypatch.setattr(gen.os, "getloadavg", lambda: (2.5, 0.0, 0.0))
    assert gen._workers(MANY) == 1

    def unavailable() -> tuple[float, float, float]:
        raise OSError("no load average")

    monkeypatch.setattr(gen.os, "getloadavg", unavailable)
    assert gen._workers(MANY) == 2
