"""Admission control of ``talkinghead serve``: refuse a session rather than let all fall behind.

The server is one Python process whose work runs on one event loop (the GIL puts its Python
work on one core), so its headroom is what is left of ``budget`` (processing seconds per
wall second; default 0.85, one core) after what the live sessions need. That need is
measured, split in two parts:

- **The batches** (:mod:`talkinghead.serve.batching`: one model call for every session
  with audio waiting). Batching is elastic: with more sessions the batches get bigger and
  the batch's fixed cost is shared by more sessions, so the time the batches take now
  (their duty cycle) overstates what one more session needs. The batcher reports every
  batch (its items, seconds of audio and wall time) and the server fits the batch cost
  model ``cost = a + b x`` (``x``: the batch's seconds of audio) to the batches of the last
  ``window_s`` seconds, by least squares with the start-up measurement as a prior
  (:meth:`Admission.calibrate` pushes one and ten synthetic sessions a batch; the prior
  counts as ``prior_weight`` batches at each of those two sizes, so the slope comes from
  the start-up measurement while the live batches are all of one size). A real-time
  session adds ``b`` seconds of batch work per second; the fixed cost counts as one batch
  per ``tick_s`` (20 ms: one batch per chunk of a microphone client, which the lag allows).
- **The rest** (sockets, JSON, the event loop): with ``process_cpu``, the server's own CPU
  time (all its threads, ``time.process_time``) over the window less the batches' CPU time
  (their thread's ``time.thread_time``) and the sessions' start and end (building an
  animator, the last frames: :meth:`Admission.record_setup`), per second of audio the
  batches pushed in that window, times the batches' wall / CPU time ratio (the waits for a
  core, as in ``b``).
  It is measured over the part of the window from ``settle_s`` after the last session
  opened (a connection's handshake and set-up are not its ongoing cost); before there are
  ``min_span_s`` seconds of that (at start, in a burst of arrivals) it is
  ``(startup_overhead - 1) b``.

So ``need(N) = N (b + o) + a / tick_s`` (``o``: the rest per session), one more session
costs ``b + o`` (not the batches' current time divided by N), and a new session is
admitted when ``need(N) + b + o <= budget`` and no live session's frame lag p95 (arrival of
the chunk that completed a frame -> sent, over the last ``window_s`` seconds) exceeds
``max_lag_ms``. Otherwise the client gets close code 1013 ("try again later") and a reason
that names the numbers. The measured wall times include waits for cores that other
processes hold, so a loaded machine admits fewer sessions.
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass, field

__all__ = ["Admission", "AdmissionConfig", "fit_batch_cost"]


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass
class AdmissionConfig:
    """Settings of :class:`Admission`.

    Attributes
    ----------
    budget : float or None
        Processing seconds per second the sessions may use together (None: 0.85, one
        core: the server is one Python process whose Python work runs on one core at a
        time, and the wall times it measures include waiting for that core).
    max_lag_ms : float
        Refuse new sessions while a live one's lag p95 is above this (60: the frame lag
        target; a session's server-side lag is a part of its lag from the audio).
    window_s : float
        Seconds of audio (sessions), of wall time (lag, batches, process CPU) the measures
        look back on.
    enabled : bool
    startup_overhead : float
        A session's whole marginal cost (socket, JSON, event loop and its batch work) as a
        factor on its batch work ``b``, until the rest is measured; must be >= 1.
    process_cpu : bool
        Measure this process's CPU time per wall second (the rest of the work is that minus
        the batches' time; off in unit tests, whose process does other work).
    tick_s : float
        The batch period whose fixed cost the need counts (one batch per this many seconds).
    prior_weight : float
        How many batches the start-up measurement counts as, at each of its two sizes.
    min_span_s : float
        Wall seconds of process-CPU samples before the rest of the work counts as measured.
    settle_s : float
        The rest is measured from this long after the last session opened (a connection's
        handshake and set-up are not a session's ongoing cost).
    """

    budget: float | None = None
    max_lag_ms: float = 60.0
    window_s: float = 4.0
    enabled: bool = True
    startup_overhead: float = 1.0
    process_cpu: bool = False
    tick_s: float = 0.02
    prior_weight: float = 20.0
    min_span_s: float = 0.5
    settle_s: float = 0.25

    def resolved_budget(self) -> float:
        return float(self.budget) if self.budget is not None else 0.85 * min(1, available_cpus())


def fit_batch_cost(batches, prior=None, prior_weight: float = 20.0) -> tuple[float, float]:
    """Least-squares fit of ``cost = a + b x`` to batches ``(x, cost)`` (``x``: seconds of
    audio in the batch, ``cost``: its wall seconds); returns ``(a, b)``, both >= 0.

    ``prior``: ``((x1, c1), (x2, c2))``, measured batch sizes (the start-up measurement:
    one or two), each counted as ``prior_weight`` batches. Without a prior and with fewer
    than two distinct ``x``, the cost is all per audio second (``a = 0``).
    """
    pts = [(float(x), float(c), 1.0) for x, c in batches]
    if prior is not None:
        pts += [(float(x), float(c), float(prior_weight)) for x, c in prior]
    if not pts:
        return 0.0, 0.0
    w = sum(p[2] for p in pts)
    mx = sum(x * k for x, _, k in pts) / w
    mc = sum(c * k for _, c, k in pts) / w
    sxx = sum(k * (x - mx) ** 2 for x, _, k in pts)
    if sxx <= 1e-12 * max(1.0, mx * mx) * w:
        return 0.0, (mc / mx if mx > 0 else 0.0)
    b = sum(k * (x - mx) * (c - mc) for x, c, k in pts) / sxx
    a = mc - b * mx
    if a < 0:  # all per audio second: the line through the origin
        a, b = (
            0.0,
            sum(k * x * c for x, c, k in pts) / max(sum(k * x * x for x, _, k in pts), 1e-18),
        )
    if b < 0:  # all fixed
        a, b = mc, 0.0
    return float(a), float(b)


@dataclass
class _Session:
    audio_s: float = 0.0  # seconds of its audio processed
    lags: deque = field(default_factory=deque)  # (wall time, lag_ms)


class Admission:
    """Measured need, headroom and the admit / refuse decision (see the module docstring).

    Thread-safety: called from the event loop only.
    """

    def __init__(self, config: AdmissionConfig | None = None, *, clock=time.monotonic,
                 cpu_clock=time.process_time) -> None:  # fmt: skip
        self.cfg = config or AdmissionConfig()
        self._clock, self._cpu_clock = clock, cpu_clock  # wall and process CPU seconds
        self.budget = self.cfg.resolved_budget()
        self.sessions: dict[int, _Session] = {}
        self.startup_load = 0.0
        self.prior: tuple | None = None  # ((x, cost), ...): calibrate's batches
        self.refused = 0
        self._cpu: deque = deque()  # (monotonic wall s, process CPU s)
        self._batches: deque = deque()  # (monotonic wall s, n_items, audio_s, wall_s, cpu_s)
        self._setup: deque = deque()  # (monotonic wall s, cpu_s): sessions' starts and ends
        self._last_open = -float("inf")

    # ------------------------------------------------------------------ measures
    def calibrate(self, factory, *, fps: float = 25.0, lookahead_ms: float = 0.0,
                  seconds: float = 3.0, streams: int = 1) -> float:  # fmt: skip
        """Measure one session's load on synthetic audio (20 ms chunks, the median of three
        thirds of ``seconds``); returns it. With ``streams`` > 1, that many sessions are
        pushed together per chunk (:func:`talkinghead.streaming.push_batch`, as the server's
        batcher does) and the load is one session's share; one stream alone is measured
        too, and the two batch costs are the prior of the batch cost model."""
        streams = max(1, int(streams))
        tick1 = self._time_ticks(factory, fps, lookahead_ms, seconds / (2 if streams > 1 else 1), 1)
        if streams == 1:
            tick_n = tick1
        else:
            tick_n = self._time_ticks(factory, fps, lookahead_ms, seconds, streams)
        self.prior = ((0.02, tick1), (0.02 * streams, tick_n)) if streams > 1 else ((0.02, tick1),)
        self.startup_load = float(tick_n / 0.02 / streams)
        return self.startup_load

    @staticmethod
    def _time_ticks(factory, fps, lookahead_ms, seconds, streams) -> float:
        """Median wall seconds of one push of a 20 ms chunk to ``streams`` sessions together
        (the median of three thirds of ``seconds`` of audio)."""
        import numpy as np

        from ..streaming import StreamingAnimator, push_batch

        sas = [StreamingAnimator(factory(fps, lookahead_ms), sample_rate=16000)
               for _ in range(streams)]  # fmt: skip
        sr = int(getattr(sas[0].animator, "sr", 16000))
        rng = np.random.default_rng(0)
        t = np.arange(int(max(seconds, 0.3) * sr)) / sr
        env = 0.5 * (1 + np.sin(2 * np.pi * 3.0 * t))  # syllable-rate bursts
        y = (0.1 * env * rng.standard_normal(len(t))).astype(np.float32)
        step = sr // 50

        def push(chunk):
            if streams == 1:
                sas[0].push(chunk)
            else:
                push_batch([(sa, chunk) for sa in sas])

        push(y[:step])  # warm-up (imports, caches)
        ticks = []
        third = (len(y) - step) // 3
        for k in range(3):  # the median of three runs: one preempted run does not decide
            t0 = time.perf_counter()
            n = 0
            for i in range(step + k * third, step + (k + 1) * third, step):
                push(y[i : i + step])
                n += 1
            ticks.append((time.perf_counter() - t0) / max(n, 1))
        return float(sorted(ticks)[1])

    def open(self, sid: int) -> None:
        self.sessions[sid] = _Session()
        self._last_open = self._clock()

    def close(self, sid: int) -> None:
        self.sessions.pop(sid, None)

    def _cpu_window(self) -> tuple[float, float, float] | None:
        """(t0, t1, CPU seconds) of this process over the window (None when off, or before
        ``min_span_s`` of samples)."""
        if not self.cfg.process_cpu:
            return None
        now = self._clock()
        if not self._cpu or now - self._cpu[-1][0] >= 0.1:  # process_time() is a syscall
            self._cpu.append((now, self._cpu_clock()))
        if len(self._cpu) < 2:
            return None
        while len(self._cpu) > 2 and now - self._cpu[1][0] >= self.cfg.window_s:
            self._cpu.popleft()
        (t0, c0), (t1, c1) = self._cpu[0], self._cpu[-1]
        return (t0, t1, c1 - c0) if t1 - t0 >= self.cfg.min_span_s else None

    def process_load(self) -> float | None:
        """This process's CPU seconds per wall second over the window (None when off, or
        before ``min_span_s`` of samples)."""
        w = self._cpu_window()
        return None if w is None else w[2] / (w[1] - w[0])

    def record_batch(self, n_items: int, audio_s: float, cost_s: float,
                     cpu_s: float | None = None, now: float | None = None) -> None:  # fmt: skip
        """One batch of the batcher: its sessions, seconds of audio, wall seconds and CPU
        seconds of its thread (default: the wall seconds)."""
        now = self._clock() if now is None else float(now)
        cpu = float(cost_s if cpu_s is None else cpu_s)
        self._batches.append((now, int(n_items), float(audio_s), float(cost_s), cpu))
        while self._batches and now - self._batches[0][0] > self.cfg.window_s + 1.0:
            self._batches.popleft()  # kept 1 s longer: the process-CPU window starts earlier

    def record_setup(self, cpu_s: float) -> None:
        """CPU seconds of a session's start or end (its animator built, its last frames):
        not its ongoing cost, so not part of the rest."""
        self._setup.append((self._clock(), float(cpu_s)))
        while self._setup and self._clock() - self._setup[0][0] > self.cfg.window_s + 1.0:
            self._setup.popleft()

    def batch_model(self) -> tuple[float, float]:
        """``(a, b)`` of the batch cost model ``cost = a + b x`` (see the module docstring)."""
        now = self._clock()
        pts = [(b[2], b[3]) for b in self._batches if b[2] > 0 and now - b[0] <= self.cfg.window_s]
        return fit_batch_cost(pts, self.prior, self.cfg.prior_weight)

    def _batch_sums(self, t0: float, t1: float) -> tuple[float, float, float]:
        """(audio s, wall s, CPU s) of the batches that ended in ``(t0, t1]``."""
        audio = wall = cpu = 0.0
        for t, _, x, c, u in self._batches:
            if t0 < t <= t1:
                audio, wall, cpu = audio + x, wall + c, cpu + u
        return audio, wall, cpu

    def batch_duty(self) -> float | None:
        """Wall seconds of batches per wall second over the process-CPU window (None before
        ``min_span_s`` of it)."""
        w = self._cpu_window()
        if w is None:
            return None
        return self._batch_sums(w[0], w[1])[1] / (w[1] - w[0])

    def record_work(self, sid: int, compute_s: float, audio_s: float) -> None:
        """A session's audio processed (``compute_s``: its share of the time; the decision
        uses the batches' and the process's times instead); samples the process CPU."""
        self.process_load()  # a sample of the process's CPU time
        s = self.sessions.get(sid)
        if s is not None:
            s.audio_s += audio_s

    def record_lag(self, sid: int, lag_ms: float) -> None:
        s = self.sessions.get(sid)
        if s is None:
            return
        now = self._clock()
        s.lags.append((now, float(lag_ms)))
        while s.lags and now - s.lags[0][0] > self.cfg.window_s:
            s.lags.popleft()

    def rest_per_session(self) -> tuple[float, bool]:
        """The non-batch work (sockets, JSON, event loop) of one real-time session, in
        seconds per second, and whether it is measured (else ``(startup_overhead - 1) b``).

        Measured: the process's CPU seconds less the batches' CPU seconds over the window,
        per second of audio the batches pushed in it, times the batches' wall / CPU ratio
        (>= 1: the waits for a core that the batches' wall times include)."""
        _, b = self.batch_model()
        prior = max(0.0, self.cfg.startup_overhead - 1.0) * b
        w = self._cpu_window() if self.sessions else None
        if w is None:
            return prior, False
        # from settle_s after the last session opened (its handshake and first messages)
        start = max(w[0], self._last_open + self.cfg.settle_s)
        first = next((x for x in self._cpu if x[0] >= start), None)
        if first is None or self._cpu[-1][0] - first[0] < self.cfg.min_span_s:
            return prior, False
        t0, t1, proc = first[0], self._cpu[-1][0], self._cpu[-1][1] - first[1]
        audio, wall, cpu = self._batch_sums(t0, t1)
        cpu_setup = sum(c for t, c in self._setup if t0 < t <= t1)
        if audio < self.cfg.min_span_s * 0.5:  # less than half a session's audio: no measure
            return prior, False
        stretch = max(1.0, wall / cpu) if cpu > 0 else 1.0
        return max(0.0, proc - cpu - cpu_setup) * stretch / audio, True

    def estimate(self) -> float:
        """What one more real-time session needs: its batch work ``b`` and its rest."""
        _, b = self.batch_model()
        return b + self.rest_per_session()[0]

    def load(self) -> float:
        """What the live sessions need, in cores: ``N (b + o) + a / tick_s`` (0 with none)."""
        n = len(self.sessions)
        if not n:
            return 0.0
        a, _ = self.batch_model()
        return n * self.estimate() + a / self.cfg.tick_s

    def worst_lag_p95(self) -> float:
        worst = 0.0
        for s in self.sessions.values():
            if len(s.lags) >= 5:
                v = sorted(x for _, x in s.lags)
                worst = max(worst, v[min(len(v) - 1, int(0.95 * len(v)))])
        return worst

    # ------------------------------------------------------------------ decision
    def check(self) -> str | None:
        """None to admit a new session, else the reason to refuse it (close 1013)."""
        if not self.cfg.enabled:
            return None
        est = self.estimate()
        load = self.load() if self.sessions else self.batch_model()[0] / self.cfg.tick_s
        if load + est > self.budget:
            self.refused += 1
            return (
                f"server at capacity: {len(self.sessions)} sessions need {load:.2f} of "
                f"{self.budget:.2f} s/s of processing; one more needs ~{est:.3f}; try again later"
            )
        lag = self.worst_lag_p95()
        if lag > self.cfg.max_lag_ms:
            self.refused += 1
            return (f"server falling behind: frame lag p95 {lag:.0f} ms > "
                    f"{self.cfg.max_lag_ms:g} ms; try again later")  # fmt: skip
        return None

    def summary(self) -> dict:
        est = self.estimate()
        a, b = self.batch_model()
        rest, measured = self.rest_per_session()
        fixed = a / self.cfg.tick_s
        duty = self.batch_duty()
        proc = self.process_load() if self.sessions else None
        now = self._clock()
        return {
            "enabled": self.cfg.enabled,
            "budget_cores": round(self.budget, 3),
            "load_cores": round(self.load(), 4),
            "session_load_estimate": round(est, 5),
            "startup_load": round(self.startup_load, 5),
            "estimated_capacity": int(max(0.0, self.budget - fixed) / est) if est > 0 else None,
            "worst_lag_p95_ms": round(self.worst_lag_p95(), 2),
            "refused": self.refused,
            "batch_cost": {
                "fixed_ms": round(1000 * a, 3),
                "per_audio_s": round(b, 5),
                "batches": sum(1 for t, *_ in self._batches if now - t <= self.cfg.window_s),
            },
            "batch_duty": None if duty is None else round(duty, 4),
            "process_cpu": None if proc is None else round(proc, 4),
            "rest_per_session": round(rest, 5),
            "rest_measured": measured,
        }
