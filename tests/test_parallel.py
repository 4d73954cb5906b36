"""Renditions on idle cores: the task runner, the core ledger the workers share, and a set made on lent
threads, which must be byte for byte the set made on one."""

from __future__ import annotations

import copy
import json
import os
import signal
import threading
import time
from contextlib import contextmanager, suppress

import pytest
import requests

from imgopt.imaging import pipeline
from imgopt.imaging.context import RequestContext
from imgopt.imaging.options import ConvertOptions
from imgopt.imaging.parallel import TaskRunner, lend_none, lend_up_to
from imgopt.server.cores import CoreLedger
from testing import images
from testing.http import multipart, post_body
from testing.server import start_gunicorn, stop_gunicorn
from testing.settings import pipeline_settings

CMS = [
    (f"{fmt}-{width}", ConvertOptions(format=fmt, width=width))
    for width in (64, 160, 400)
    for fmt in ("webp", "avif")
]


def test_one_thread_runs_tasks_depth_first_in_order():
    runner = TaskRunner(1)
    order = []

    def parent(name):
        order.append(name)
        runner.submit_all([lambda: order.append(f"{name}.1"), lambda: order.append(f"{name}.2")])

    runner.run([lambda: parent("a"), lambda: parent("b")])
    assert order == ["a", "a.1", "a.2", "b", "b.1", "b.2"]


def test_several_threads_run_every_task_and_the_tasks_they_add():
    runner = TaskRunner(3)
    seen, lock = [], threading.Lock()

    def record(name):
        with lock:
            seen.append(name)

    def parent(index):
        record(index)
        runner.submit_all([lambda i=index: record(f"{i}.child")])

    runner.run([lambda i=i: parent(i) for i in range(5)])
    assert sorted(map(str, seen)) == sorted([str(i) for i in range(5)] + [f"{i}.child" for i in range(5)])


def test_a_free_thread_takes_the_waiting_task_that_leads_to_the_most_work():
    runner = TaskRunner(2)
    order, released = [], threading.Event()

    def first():
        runner.submit_all(
            [
                lambda: order.append("low") or released.set(),
                lambda: order.append("high"),
                lambda: order.append("mid"),
            ],
            [1.0, 5.0, 3.0],
        )

    def blocker():  # keeps the other thread busy until the last task has run
        assert released.wait(10)

    runner.run([first, blocker], [10.0, 9.0])
    assert order == ["high", "mid", "low"]


def test_a_failing_task_fails_the_run():
    runner = TaskRunner(2)

    def boom():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        runner.run([boom, lambda: time.sleep(0.01)])


@pytest.mark.parametrize(
    "data",
    [
        images.photo((1200, 900), orientation=6),
        images.png((300, 200), mode="RGBA"),
        images.encode(images.textured((500, 400)), "WEBP", quality=90),
        # Decoded at full size: smaller renditions are made from larger ones' resizes, in any order.
        images.encode(images.textured((1600, 1200)), "PNG"),
    ],
    ids=["rotated-jpeg", "rgba-png", "webp", "png-from-intermediates"],
)
def test_a_set_on_lent_threads_is_the_set_on_one_thread_byte_for_byte(data):
    settings = pipeline_settings()
    requests_ = [
        *CMS,
        ("card", ConvertOptions(format="avif", width=96, height=96, fit="cover", gravity="smart")),
        ("auto", ConvertOptions(format="webp", width=120, auto_quality=True)),
    ]
    alone = pipeline.render_set(data, requests_, settings, context=RequestContext(borrow=lend_none))
    lent = pipeline.render_set(data, requests_, settings, context=RequestContext(borrow=lend_up_to(3)))
    assert [(r.name, r.data) for r in lent.renditions] == [(r.name, r.data) for r in alone.renditions]
    assert lent.placeholder == alone.placeholder
    assert lent.source == alone.source


def test_a_single_avif_gets_the_lent_threads_for_its_encoder_and_the_same_bytes():
    settings = pipeline_settings()
    data = images.photo((1600, 1200))
    options = ConvertOptions(format="avif", width=800)
    assert (
        pipeline.convert(data, options, settings, context=RequestContext(borrow=lend_up_to(1))).rendition.data
        == pipeline.convert(data, options, settings).rendition.data
    )


def test_an_animated_avif_on_lent_threads_is_the_image_made_on_one():
    # libaom's pixels for a sequence depend on its thread count (a still's do not): an animation keeps one.
    # The sequence's header carries the encoding time in seconds, so two encodes are compared by pixels.
    data = (images.FILES / "animated-loop-3.gif").read_bytes()
    options = ConvertOptions(format="avif")
    settings = pipeline_settings()
    images.assert_same_image(
        pipeline.convert(
            data, options, settings, context=RequestContext(borrow=lend_up_to(1))
        ).rendition.data,
        pipeline.convert(data, options, settings).rendition.data,
        "animated-loop-3.gif",
    )


def spy(lend: int):
    asked = []

    @contextmanager
    def borrow(wanted):
        asked.append(wanted)
        yield min(wanted, lend)

    return borrow, asked


def test_a_request_asks_for_no_more_threads_than_renditions_or_the_setting():
    borrow, asked = spy(8)
    data = images.photo((800, 600))
    pipeline.render_set(
        data, CMS[:2], pipeline_settings(rendition_threads=8), context=RequestContext(borrow=borrow)
    )
    pipeline.render_set(
        data, CMS, pipeline_settings(rendition_threads=3), context=RequestContext(borrow=borrow)
    )
    pipeline.render_set(
        data, CMS, pipeline_settings(rendition_threads=1), context=RequestContext(borrow=borrow)
    )
    pipeline.convert(
        data,
        ConvertOptions(format="webp", width=100),
        pipeline_settings(),
        context=RequestContext(borrow=borrow),
    )
    assert asked == [1, 2, 0, 0]


def test_the_memory_budget_counts_renditions_in_flight_and_runs_on_fewer_threads_rather_than_refusing():
    borrow, asked = spy(8)
    data = images.photo((2400, 1800))
    big = [(f"w{w}", ConvertOptions(format="avif", width=w)) for w in (2400, 2300, 2200, 2100)]
    # A budget that fits one encode at a time but not four: the set still runs, on one thread.
    settings = pipeline_settings(rendition_threads=4, max_decode_bytes=110 * 1024 * 1024)
    pipeline.render_set(data, big, settings, context=RequestContext(borrow=borrow))
    roomy = pipeline_settings(rendition_threads=4, max_decode_bytes=1024 * 1024 * 1024)
    pipeline.render_set(data, big, roomy, context=RequestContext(borrow=borrow))
    assert asked[0] < 3 and asked[1] == 3


def test_the_ledger_lends_only_idle_cores_and_heals_when_a_worker_is_released():
    ledger = CoreLedger.for_workers(workers=2, cores=2)
    first, second = ledger.assign(), ledger.assign()
    ledger.join(first, 101)
    with ledger.busy():
        with ledger.borrow(5) as lent:
            assert lent == 1  # two cores, one of them this request's own
            assert ledger.in_use() == 2
            other = copy.copy(ledger)  # another worker's view of the same shared table
            other.join(second, 102)
            with other.busy(), other.borrow(3) as lent_to_other:
                assert lent_to_other == 0  # nothing idle: the other request runs on its own thread
        assert ledger.in_use() == 1
        with ledger.borrow(1) as lent:
            assert lent == 1
            ledger.release(first)  # the worker died here; the master frees its row
            assert ledger.in_use() == 0
    assert ledger.in_use() == 0


def cores_in_use(server) -> int:
    text = requests.get(f"{server.url}/metrics", headers=server.headers(), timeout=10).text
    return int(next(line.split()[1] for line in text.splitlines() if line.startswith("imgopt_cores_in_use ")))


@pytest.mark.live
def test_cores_a_killed_worker_borrowed_are_idle_again_once_the_master_reaps_it(tmp_path):
    server = start_gunicorn(tmp_path, WEB_CONCURRENCY="2", LOG_LEVEL="warning")
    try:
        assert cores_in_use(server) == 0
        data = images.photo((4000, 3000))
        # About 1.5 s of work on two threads.
        variants = [{"name": f"w{w}", "width": w, "format": "avif"} for w in (3000, 2800, 2600, 2400)]
        body, content_type = multipart(data, {"variants": json.dumps(variants)})

        def send():
            with suppress(OSError):  # the worker is killed under it
                post_body(server, "/variants", (body, content_type), timeout=60)

        sender = threading.Thread(target=send)
        sender.start()
        deadline = time.monotonic() + 20
        seen = 0
        while seen < 2 and time.monotonic() < deadline:
            seen = max(seen, cores_in_use(server))
            time.sleep(0.05)
        assert seen == 2, "the request borrowed the idle core"
        before = server.worker_pids()
        for pid in before:
            os.kill(pid, signal.SIGKILL)
        sender.join(timeout=60)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pids = server.worker_pids()
            if len(pids) == 2 and not set(pids) & set(before):
                break
            time.sleep(0.1)
        time.sleep(0.5)
        assert cores_in_use(server) == 0
    finally:
        stop_gunicorn(server)
