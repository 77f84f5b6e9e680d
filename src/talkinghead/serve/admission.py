"""Admission control of ``talkinghead serve``: refuse a session rather than let all fall behind.

The server measures its own headroom while it runs:

- **Load** of a session: the processing time of its audio (wall time of ``push`` in the
  worker pool, which includes waiting for a core or the GIL when the machine is busy)
  divided by the duration of that audio, over its last ``window_s`` seconds of audio
  (a session with less than 1 s of audio counts with the estimate below). A
  session that needs 30 ms to process 1 s of speech has load 0.03. The sum over live
  sessions is the server's load, in cores.
- **Lag** of a session: how late its frames leave compared with what the algorithm
  allows (arrival of the chunk that completed them -> sent), the 95th percentile over the
  last ``window_s`` seconds.

A new session is admitted when ``load + estimate <= budget`` and no live session's lag
p95 exceeds ``max_lag_ms``; ``estimate`` is the largest of the live sessions' median load
and the cost measured at start-up (:meth:`Admission.calibrate`: the animator on a few
seconds of synthetic speech-like audio). ``budget`` defaults to 0.85 (processing seconds
per second: one core, since the server is one Python process and the GIL runs its Python
work on one core at a time; the measured wall times include the waits for it and for
cores that other processes hold). Otherwise the client gets close code 1013 ("try again
later") and a reason that names the numbers.

Two corrections keep a burst of arrivals from being admitted on the animator's cost alone
(measured on a quiet 2-core machine: 20 clients connecting at once were all admitted on a
start-up cost of 0.032 s/s each, then got 16 of 25 frames/s, 5 s late, because the
websockets, JSON and event-loop work of a session cost as much again):

- ``startup_overhead`` multiplies the start-up measurement (the server uses 2.0);
- with ``process_cpu`` the server's own CPU time (all its threads, ``time.process_time``)
  per wall second over the window is a floor of the load, and that load divided by the
  live sessions a floor of the estimate.
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass, field

__all__ = ["Admission", "AdmissionConfig"]


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
        time, and the wall-time loads it measures include waiting for that core).
    max_lag_ms : float
        Refuse new sessions while a live one's lag p95 is above this.
    window_s : float
        Seconds of audio (load) and of wall time (lag) the measures look back on.
    enabled : bool
    startup_overhead : float
        Factor on the start-up measurement of one session's load (the animator alone) for the
        whole session's cost (socket, JSON, event loop); must be >= 1.
    process_cpu : bool
        Also measure this process's CPU time per wall second (a floor of the load; off in
        unit tests, whose process does other work).
    """

    budget: float | None = None
    max_lag_ms: float = 150.0
    window_s: float = 4.0
    enabled: bool = True
    startup_overhead: float = 1.0
    process_cpu: bool = False

    def resolved_budget(self) -> float:
        return float(self.budget) if self.budget is not None else 0.85 * min(1, available_cpus())


@dataclass
class _Session:
    work: deque = field(default_factory=deque)  # (compute_s, audio_s)
    audio_s: float = 0.0
    compute_s: float = 0.0
    lags: deque = field(default_factory=deque)  # (wall time, lag_ms)

    def load(self) -> float | None:
        """Measured load, once a second of audio has been processed (None before)."""
        return self.compute_s / self.audio_s if self.audio_s >= 1.0 else None


class Admission:
    """Per-session load and lag, and the admit / refuse decision (see the module docstring).

    Thread-safety: called from the event loop only.
    """

    def __init__(self, config: AdmissionConfig | None = None) -> None:
        self.cfg = config or AdmissionConfig()
        self.budget = self.cfg.resolved_budget()
        self.sessions: dict[int, _Session] = {}
        self.startup_load = 0.0
        self.refused = 0
        self._cpu: deque = deque()  # (monotonic wall s, process CPU s)

    # ------------------------------------------------------------------ measures
    def calibrate(self, factory, *, fps: float = 25.0, lookahead_ms: float = 0.0,
                  seconds: float = 3.0, streams: int = 1) -> float:  # fmt: skip
        """Measure one session's load on synthetic audio (20 ms chunks, the median of three
        thirds of ``seconds``); returns it. With ``streams`` > 1, that many sessions are
        pushed together per chunk (:func:`talkinghead.streaming.push_batch`, as the server's
        batcher does) and the load is one session's share."""
        import numpy as np

        from ..streaming import StreamingAnimator, push_batch

        streams = max(1, int(streams))
        sas = [StreamingAnimator(factory(fps, lookahead_ms), sample_rate=16000)
               for _ in range(streams)]  # fmt: skip
        sr = int(getattr(sas[0].animator, "sr", 16000))
        rng = np.random.default_rng(0)
        t = np.arange(int(seconds * sr)) / sr
        env = 0.5 * (1 + np.sin(2 * np.pi * 3.0 * t))  # syllable-rate bursts
        y = (0.1 * env * rng.standard_normal(len(t))).astype(np.float32)
        step = sr // 50

        def push(chunk):
            if streams == 1:
                sas[0].push(chunk)
            else:
                push_batch([(sa, chunk) for sa in sas])

        push(y[:step])  # warm-up (imports, caches)
        loads = []
        third = (len(y) - step) // 3
        for k in range(3):  # the median of three runs: one preempted run does not decide
            t0 = time.perf_counter()
            for i in range(step + k * third, step + (k + 1) * third, step):
                push(y[i : i + step])
            loads.append((time.perf_counter() - t0) / max(third / sr, 1e-9) / streams)
        self.startup_load = float(sorted(loads)[1])
        return self.startup_load

    def open(self, sid: int) -> None:
        self.sessions[sid] = _Session()

    def close(self, sid: int) -> None:
        self.sessions.pop(sid, None)

    def process_load(self) -> float | None:
        """This process's CPU seconds per wall second over the window (None when off, or
        before a second of samples)."""
        if not self.cfg.process_cpu:
            return None
        now = time.monotonic()
        if not self._cpu or now - self._cpu[-1][0] >= 0.1:  # process_time() is a syscall
            self._cpu.append((now, time.process_time()))
        if len(self._cpu) < 2:
            return None
        while len(self._cpu) > 2 and now - self._cpu[1][0] >= self.cfg.window_s:
            self._cpu.popleft()
        (t0, c0), (t1, c1) = self._cpu[0], self._cpu[-1]
        return (c1 - c0) / (t1 - t0) if t1 - t0 >= 1.0 else None

    def record_work(self, sid: int, compute_s: float, audio_s: float) -> None:
        self.process_load()  # a sample of the process's CPU time
        s = self.sessions.get(sid)
        if s is None:
            return
        s.work.append((compute_s, audio_s))
        s.compute_s += compute_s
        s.audio_s += audio_s
        while s.work and s.audio_s - s.work[0][1] >= self.cfg.window_s:
            c, a = s.work.popleft()
            s.compute_s -= c
            s.audio_s -= a

    def record_lag(self, sid: int, lag_ms: float) -> None:
        s = self.sessions.get(sid)
        if s is None:
            return
        now = time.monotonic()
        s.lags.append((now, float(lag_ms)))
        while s.lags and now - s.lags[0][0] > self.cfg.window_s:
            s.lags.popleft()

    def load(self) -> float:
        """Measured load of all live sessions, in cores (new sessions count the estimate)."""
        est = self.estimate()
        measured = float(sum(s.load() if s.load() is not None else est
                             for s in self.sessions.values()))  # fmt: skip
        proc = self.process_load() if self.sessions else None
        return max(measured, proc) if proc is not None else measured

    def estimate(self) -> float:
        loads = sorted(x for x in (s.load() for s in self.sessions.values()) if x is not None)
        med = loads[len(loads) // 2] if loads else 0.0
        est = max(med, self.startup_load * self.cfg.startup_overhead)
        proc = self.process_load() if self.sessions else None
        if proc is not None:
            est = max(est, proc / len(self.sessions))
        return est

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
        load, est = self.load(), self.estimate()
        if load + est > self.budget:
            self.refused += 1
            return (
                f"server at capacity: {len(self.sessions)} sessions use {load:.2f} of "
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
        return {
            "enabled": self.cfg.enabled,
            "budget_cores": round(self.budget, 3),
            "load_cores": round(self.load(), 4),
            "session_load_estimate": round(est, 5),
            "startup_load": round(self.startup_load, 5),
            "estimated_capacity": int(self.budget / est) if est > 0 else None,
            "worst_lag_p95_ms": round(self.worst_lag_p95(), 2),
            "refused": self.refused,
        }
