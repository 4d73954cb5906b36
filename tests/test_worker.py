"""The worker's memory decisions, alone: when it trims, when it retires, and that trimming really frees."""

from __future__ import annotations

import logging

import pytest

from imgopt.server import memory, worker


class FakeWorker:
    """What after_request uses of a gunicorn worker."""

    def __init__(self) -> None:
        self.alive = True
        self.log = logging.getLogger("test.worker")


@pytest.fixture
def rss(monkeypatch):
    """Control the RSS after_request sees, and record trims (each trim halves the RSS)."""
    state = {"rss": 100.0, "trims": 0}

    def trim() -> bool:
        state["trims"] += 1
        state["rss"] /= 2
        return True

    monkeypatch.setattr(worker, "rss_mib", lambda: state["rss"])
    monkeypatch.setattr(worker, "trim_heap", trim)
    return state


@pytest.mark.parametrize(
    ("rss_mib", "trim_above", "trims"), [(100.0, 48, 1), (80.0, 48, 0), (100.0, 0, 0), (50.1, 10, 1)]
)
def test_a_worker_trims_only_when_it_has_grown_past_the_threshold(rss, rss_mib, trim_above, trims):
    rss["rss"] = rss_mib
    worker.after_request(FakeWorker(), trim_above_mib=trim_above, max_rss_mib=0, start_rss_mib=40.0)
    assert rss["trims"] == trims


@pytest.mark.parametrize(
    ("rss_mib", "limit", "alive"), [(300.0, 256, True), (600.0, 256, False), (600.0, 0, True)]
)
def test_a_worker_still_too_large_after_trimming_retires(rss, rss_mib, limit, alive, caplog):
    rss["rss"] = rss_mib
    fake = FakeWorker()
    with caplog.at_level(logging.WARNING, logger="test.worker"):
        worker.after_request(fake, trim_above_mib=48, max_rss_mib=limit, start_rss_mib=40.0)
    assert fake.alive is alive
    if not alive:
        record = caplog.records[-1]
        assert "MAX_WORKER_RSS_MB=256" in record.getMessage()
        assert (record.max_worker_rss_mb, record.rss_mib) == (256, 300.0)


def test_trimming_returns_freed_heap_to_the_system():
    if not memory.trim_heap():
        pytest.skip("no glibc malloc_trim here")
    before = memory.rss_mib()
    blocks = [bytearray(64 * 1024) for _ in range(1600)]  # 100 MiB in small blocks, on the heap
    for block in blocks:
        block[::4096] = b"x" * len(block[::4096])  # touch every page
    grown = memory.rss_mib()
    del blocks[:-1]  # keep the last, so free() cannot release the heap's top on its own
    freed_but_held = memory.rss_mib()
    memory.trim_heap()
    assert grown - before > 80
    assert freed_but_held - before > 80, "free() alone already gave the memory back: nothing to test"
    assert memory.rss_mib() - before < 30


def test_rss_is_read_from_proc():
    assert 5 < memory.rss_mib() < 4096
