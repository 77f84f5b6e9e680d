"""Admission control: measured load and lag decide; refusals close with 1013 and a reason."""

from __future__ import annotations

import json

import numpy as np
import pytest

from talkinghead.serve.admission import Admission, AdmissionConfig


class FakeClocks:
    """Wall and process-CPU clocks that a test advances (deterministic admission)."""

    def __init__(self) -> None:
        self.t, self.cpu = 100.0, 10.0

    def wall(self) -> float:
        return self.t

    def proc(self) -> float:
        return self.cpu


def test_fit_batch_cost_recovers_a_and_b():
    from talkinghead.serve.admission import fit_batch_cost

    xs = [0.02 * k for k in (1, 2, 3, 5, 8, 13, 20)]
    a, b = fit_batch_cost([(x, 0.003 + 0.02 * x) for x in xs])
    assert a == pytest.approx(0.003) and b == pytest.approx(0.02)
    # live batches all of one size (1-2 sessions): the level is theirs, the slope the prior's
    prior = ((0.02, 0.0034), (0.2, 0.007))  # a 3 ms, b 0.02
    live = [(0.02, 0.0044)] * 200  # 1 ms dearer per batch than at start-up
    a, b = fit_batch_cost(live, prior, prior_weight=20)
    assert 0.02 * b + a == pytest.approx(0.0044, abs=2e-4)
    assert 0.004 < a < 0.0044 and 0 < b < 0.02
    # degenerate: one size, no prior -> all per audio second; nothing -> zeros
    assert fit_batch_cost([(0.02, 0.004)] * 3) == pytest.approx((0.0, 0.2))
    assert fit_batch_cost([]) == (0.0, 0.0)
    # a negative intercept is clipped to the line through the origin, a negative slope to flat
    a, b = fit_batch_cost([(0.02, 0.001), (0.2, 0.02)])
    assert a == 0.0 and b == pytest.approx(0.0999, rel=0.01)
    a, b = fit_batch_cost([(0.02, 0.005), (0.2, 0.004)])
    assert b == 0.0 and a == pytest.approx(0.0045)


def elastic_batches(adm, clocks, n_sessions, seconds, *, a=0.003, b=0.02, rest=0.01,
                    items=1.5):  # fmt: skip
    """Feed ``adm`` the batches and process CPU of ``n_sessions`` real-time sessions whose
    20 ms chunks arrive spread out, so that each batch holds ``items`` sessions (as the
    inline batcher does on a quiet machine): cost a + b x per batch, ``rest`` CPU s/s per
    session besides the batches."""
    n_batches = int(round(n_sessions * 50 * seconds / items))
    dt = seconds / n_batches
    x = items * 0.02
    for sid in range(n_sessions):
        if sid not in adm.sessions:
            adm.open(sid)
    for _ in range(n_batches):
        clocks.t += dt
        clocks.cpu += a + b * x + rest * x
        adm.record_batch(round(items), x, a + b * x, a + b * x)
        adm.record_work(0, 0.0, 0.0)  # a sample of the process CPU, as deliver does


def test_elastic_batching_counts_one_more_session_at_its_marginal_cost():
    """12 sessions in batches of 1.5: the batches take 12 x 50 / 1.5 x (3 ms + 0.6 ms) =
    1.44 s/s, more than the core, if one divides the batches' time by the sessions
    (0.12 s/s each: capacity 7); but one more session costs b + rest = 0.03 s/s and the
    fixed cost one batch per 20 ms = 0.15 s/s: need(12) = 0.51, capacity 23."""
    clocks = FakeClocks()
    adm = Admission(AdmissionConfig(budget=0.85, process_cpu=True, startup_overhead=1.5),
                    clock=clocks.wall, cpu_clock=clocks.proc)  # fmt: skip
    adm.prior = ((0.02, 0.003 + 0.02 * 0.02), (0.2, 0.003 + 0.02 * 0.2))
    elastic_batches(adm, clocks, 12, 5.0, items=1.5)
    a, b = adm.batch_model()
    assert a == pytest.approx(0.003, rel=1e-6) and b == pytest.approx(0.02, rel=1e-6)
    rest, measured = adm.rest_per_session()
    assert measured and rest == pytest.approx(0.01, rel=1e-6)
    assert adm.estimate() == pytest.approx(0.03, rel=1e-6)
    assert adm.load() == pytest.approx(12 * 0.03 + 0.15, rel=1e-6)
    s = adm.summary()
    assert (
        s["estimated_capacity"] == 23 and s["rest_measured"] and s["batch_cost"]["fixed_ms"] == 3.0
    )
    assert adm.check() is None
    # 23 live sessions: 23 x 0.03 + 0.15 = 0.84; one more would need 0.87 > 0.85
    elastic_batches(adm, clocks, 23, 5.0, items=3.0)
    assert adm.load() == pytest.approx(0.84, rel=1e-6)
    reason = adm.check()
    assert reason is not None and "23 sessions need 0.84 of 0.85" in reason


def test_rest_is_stretched_by_the_waits_for_a_core():
    """On a busy machine a batch's wall time exceeds its CPU time; the rest (CPU time)
    counts with the same ratio."""
    clocks = FakeClocks()
    adm = Admission(AdmissionConfig(process_cpu=True), clock=clocks.wall, cpu_clock=clocks.proc)
    adm.open(1)
    for _ in range(100):  # 2 s of one session: 20 ms batches, 4 ms wall, 2 ms CPU, 1 ms rest
        clocks.t += 0.02
        clocks.cpu += 0.003
        adm.record_batch(1, 0.02, 0.004, 0.002)
        adm.record_work(1, 0.004, 0.02)
    rest, measured = adm.rest_per_session()
    assert measured and rest == pytest.approx(0.001 * 2 / 0.02, rel=0.02)  # 0.1 s/s
    assert adm.batch_duty() == pytest.approx(0.2, rel=0.02)
    # a new session: its set-up is not an ongoing cost, the rest waits settle_s + min_span_s
    adm.open(2)
    clocks.cpu += 0.05  # its handshake
    assert adm.rest_per_session() == (0.0, False)  # startup_overhead 1 here
    for _ in range(50):
        clocks.t += 0.02
        clocks.cpu += 0.003
        adm.record_batch(1, 0.02, 0.004, 0.002)
        adm.record_work(1, 0.004, 0.02)
    rest, measured = adm.rest_per_session()
    assert measured and rest == pytest.approx(0.1, rel=0.02)


def test_rest_before_it_is_measured_is_the_startup_overhead():
    a = Admission(AdmissionConfig(budget=0.85, startup_overhead=1.5))
    a.prior = ((0.02, 0.0034), (0.2, 0.007))  # a 3 ms, b 0.02
    assert a.estimate() == pytest.approx(0.03)
    assert a.rest_per_session() == (pytest.approx(0.01), False)
    a.open(1)
    assert a.load() == pytest.approx(0.03 + 0.15)


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
    assert 0 < load < 1 and a.estimate() == pytest.approx(load)  # startup_overhead 1 here
    b = Admission()
    b.calibrate(lambda fps, la: EnergyAnimator(fps=fps, lookahead_ms=la), seconds=1.0,
                streams=4)  # fmt: skip
    (x1, c1), (x4, c4) = b.prior
    assert x1 == 0.02 and x4 == 0.08 and 0 < c1 and 0 < c4
    assert b.startup_load == pytest.approx(c4 / 0.08)


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
    """20 clients at once, before any of them is measured: the start-up batch costs (3 ms
    fixed, 0.02 s/s per session) and the overhead factor decide: (0.85 - 0.15) / (2 x 0.02)
    -> 17 sessions, not 35."""
    a = Admission(AdmissionConfig(budget=0.85, startup_overhead=2.0))
    a.prior = ((0.02, 0.0034), (0.2, 0.007))
    admitted = 0
    for sid in range(40):
        if a.check() is not None:
            break
        a.open(sid)
        admitted += 1
    assert admitted == 17
    assert a.summary()["estimated_capacity"] == 17


def test_process_cpu_is_measured():
    import time

    a = Admission(AdmissionConfig(budget=8.0, process_cpu=True, window_s=2.0))
    a.open(1)
    assert a.process_load() is None  # no samples yet
    c0, w0 = time.process_time(), time.monotonic()
    while time.monotonic() - w0 < 1.3:  # this thread busy for 1.3 s
        a.record_work(1, 0.0, 0.0)
    ref = (time.process_time() - c0) / (time.monotonic() - w0)  # the same, measured here
    busy = a.process_load()
    assert busy is not None and busy == pytest.approx(ref, rel=0.25) and busy > 0.3
