"""Admission control: measured load and lag decide; refusals close with 1013 and a reason."""

from __future__ import annotations

import json

import numpy as np
import pytest

from talkinghead.serve.admission import Admission, AdmissionConfig


def test_load_is_compute_over_audio_in_a_window():
    a = Admission(AdmissionConfig(budget=1.0, window_s=2.0))
    a.open(1)
    for _ in range(200):  # 4 s of 20 ms chunks at 5 ms each: load 0.25
        a.record_work(1, 0.005, 0.02)
    assert a.sessions[1].audio_s <= 2.0 + 1e-9
    assert a.load() == pytest.approx(0.25)
    assert a.check() is None  # 0.25 + 0.25 <= 1
    for sid in (2, 3):
        a.open(sid)
        for _ in range(50):
            a.record_work(sid, 0.005, 0.02)
    reason = a.check()  # 0.75 + 0.25 ... + one more > 1
    assert reason is None or "capacity" in reason
    a.open(4)
    for _ in range(50):
        a.record_work(4, 0.005, 0.02)
    reason = a.check()
    assert reason is not None and "capacity" in reason and "4 sessions" in reason
    a.close(4)
    a.close(3)
    assert a.check() is None
    s = a.summary()
    assert s["estimated_capacity"] == 4 and s["refused"] >= 1


def test_lagging_sessions_stop_admission():
    a = Admission(AdmissionConfig(budget=8.0, max_lag_ms=100))
    a.open(1)
    for v in np.linspace(10, 400, 20):
        a.record_lag(1, v)
    reason = a.check()
    assert reason is not None and "behind" in reason
    assert Admission(AdmissionConfig(enabled=False)).check() is None


def test_calibrate_measures_a_real_animator():
    from talkinghead.streaming import EnergyAnimator

    a = Admission()
    load = a.calibrate(lambda fps, la: EnergyAnimator(fps=fps, lookahead_ms=la), seconds=1.0)
    assert 0 < load < 1 and a.estimate() == load  # startup_overhead 1 here


def test_server_refuses_with_1013_when_at_capacity():
    pytest.importorskip("fastapi", reason="the serve extra (fastapi) is not installed")
    ws_client = pytest.importorskip("websockets.sync.client", reason="websockets missing")
    from test_server import LiveServer, expect_close  # tests/serve is on sys.path

    s = LiveServer(model="energy", cpu_budget=1e-9, admission=True)  # no headroom at all
    try:
        with ws_client.connect(s.ws) as ws:
            ws.send(json.dumps({}))
            expect_close(ws, 1013, "server at capacity")
        import httpx

        h = httpx.get(s.http + "/health").json()
        assert h["admission"]["refused"] == 1 and h["admission"]["startup_load"] > 0
    finally:
        s.close()
    s = LiveServer(model="energy", admission=False, cpu_budget=1e-9)
    try:
        with ws_client.connect(s.ws) as ws:
            ws.send(json.dumps({}))
            assert json.loads(ws.recv(timeout=10))["type"] == "ready"
    finally:
        s.close()


def test_a_burst_of_arrivals_is_admitted_on_the_whole_session_cost():
    """20 clients at once, before any of them has sent a second of audio: the start-up cost
    times the overhead decides (0.85 / (2 x 0.032) -> 13 sessions, not 26)."""
    a = Admission(AdmissionConfig(budget=0.85, startup_overhead=2.0))
    a.startup_load = 0.032
    admitted = 0
    for sid in range(20):
        if a.check() is not None:
            break
        a.open(sid)
        admitted += 1
    assert admitted == 13
    assert a.summary()["estimated_capacity"] == 13


def test_process_cpu_is_a_floor_of_the_load():
    import time

    a = Admission(AdmissionConfig(budget=8.0, process_cpu=True, window_s=2.0))
    a.open(1)
    assert a.process_load() is None  # no second of samples yet
    c0, w0 = time.process_time(), time.monotonic()
    while time.monotonic() - w0 < 1.3:  # this thread busy for 1.3 s
        a.record_work(1, 0.0, 0.0)
    ref = (time.process_time() - c0) / (time.monotonic() - w0)  # the same, measured here
    busy = a.process_load()
    assert busy is not None and busy == pytest.approx(ref, rel=0.25) and busy > 0.3
    assert a.load() >= 0.9 * busy and a.estimate() >= 0.9 * busy
