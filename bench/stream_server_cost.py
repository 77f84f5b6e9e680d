"""CPU cost of the server's per-tick work for N live sessions, without sockets.

    python bench/stream_server_cost.py [--streams 1 10 20 30] [--seconds 10] [--model default]

What ``talkinghead serve`` does every 20 ms when N real-time clients each send a 20 ms chunk
(``examples/speech.wav``, 16 kHz s16, looped): one :func:`talkinghead.streaming.push_batch`
of the N chunks, then each new frame written as its ``/ws`` message
(:func:`talkinghead.serve.app.frame_text`); for comparison the same frames also written as
``json.dumps`` of :meth:`~talkinghead.streaming.StreamFrame.to_json` plus the latency dict
(what the server did before). All in this process, one thread, no sockets: the CPU time
(``time.process_time``) per session and second of audio of each part, and the wall time
of a tick (``push_batch`` only), p50 / p95. The first 0.5 s are warm-up and not counted.
The socket, WebSocket and event-loop work of a session comes on top
(``bench/stream_concurrency.py`` measures the whole server).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def load_speech(seconds: float) -> np.ndarray:
    import soundfile as sf
    import soxr

    y, sr = sf.read(REPO / "examples" / "speech.wav", dtype="float32")
    y = soxr.resample(y, sr, 16000)
    reps = int(np.ceil(seconds * 16000 / len(y)))
    return (np.tile(y, reps)[: int(seconds * 16000)] * 32767).astype(np.int16)


def measure(n: int, seconds: float, model, lookahead_ms: float = 0.0) -> dict:
    from talkinghead.serve.app import frame_text
    from talkinghead.streaming import StreamingAnimator, load_animator, push_batch

    factory = load_animator(model, fps=25.0, lookahead_ms=lookahead_ms)
    sas = [StreamingAnimator(factory(25.0, lookahead_ms), sample_rate=16000, format="s16")
           for _ in range(n)]  # fmt: skip
    y = load_speech(seconds)
    step, warm = 320, 25  # 20 ms chunks; 25 ticks of warm-up
    cpu = {"push_batch": 0.0, "frame_text": 0.0, "to_json+dumps": 0.0}
    ticks, frames = [], 0
    lat = {"algorithmic_ms": 22.5, "audio_ms": 10.0, "compute_ms": 5.0, "queue_ms": 0.1}
    for k, i in enumerate(range(0, len(y) - step + 1, step)):
        chunk = y[i : i + step].tobytes()
        w0, c0 = time.perf_counter(), time.process_time()
        res = push_batch([(sa, chunk) for sa in sas])
        w1, c1 = time.perf_counter(), time.process_time()
        for fr in res:
            for f in fr:
                frame_text(f, 22.5, 10.0, 5.0)
        c2 = time.process_time()
        for fr in res:
            for f in fr:
                d = f.to_json()
                d["type"], d["latency"] = "frame", dict(lat)
                json.dumps(d, separators=(",", ":"))
        c3 = time.process_time()
        if k >= warm:
            cpu["push_batch"] += c1 - c0
            cpu["frame_text"] += c2 - c1
            cpu["to_json+dumps"] += c3 - c2
            ticks.append(1e3 * (w1 - w0))
            frames += sum(len(fr) for fr in res)
    audio_s = n * len(ticks) * step / 16000
    out = {"streams": n, "frames": frames}
    out.update({k: v / audio_s for k, v in cpu.items()})
    out["tick_p50_ms"] = float(np.median(ticks))
    out["tick_p95_ms"] = float(np.percentile(ticks, 95))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--streams", type=int, nargs="+", default=[1, 10, 20, 30])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--model", default=None, help="load_animator's model (default: shipped)")
    a = ap.parse_args(argv)
    rows = []
    for n in a.streams:
        load0 = os.getloadavg()[0]
        r = measure(n, a.seconds, a.model)
        r["load"] = f"{load0:.1f}->{os.getloadavg()[0]:.1f}"
        rows.append(r)
        print(json.dumps(r), flush=True)
    cols = ["streams", "push_batch", "frame_text", "to_json+dumps", "tick_p50_ms",
            "tick_p95_ms", "load"]  # fmt: skip
    print("\nCPU s per session-second (process time); tick = push_batch wall time")
    print("| " + " | ".join(cols) + " |")
    print("|" + "---:|" * len(cols))
    for r in rows:
        cells = [
            (f"{r[c]:.2f}" if c.startswith("tick") else f"{r[c]:.4f}")
            if isinstance(r[c], float) else str(r[c])
            for c in cols
        ]  # fmt: skip
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
