"""Streaming latency, concurrency and accuracy-vs-look-ahead of ``talkinghead serve``.

    python bench/stream_latency.py [--clients 20] [--seconds 20] [--grid N]

1. End-to-end latency over loopback at each look-ahead: one real-time client sends 20 ms
   chunks of examples/speech.wav (s16, 16 kHz) on the wall clock; the latency of frame t
   is its arrival time minus the wall time at which the audio at the frame's centre
   ((t + 0.5)/fps) was produced (chunking, look-ahead, windowing, compute and network).
2. Concurrency: N simulated real-time clients at once (20 ms chunks for S seconds):
   the p50/p95/max latency per client, and whether any fell behind (frames arriving
   late by more than 200 ms beyond the algorithmic latency at the end).
3. Accuracy cost of the look-ahead (energy animator): mouth-opening Pearson r
   (talkinghead.evaluate.metrics.mouth_corr) vs tracked truth (track_video) on GRID clips.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
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


def realtime_client(url, y, lookahead_ms, out, key, chunk_ms=20):
    from websockets.sync.client import connect

    step = int(16000 * chunk_ms / 1000)
    arrivals = {}
    with connect(url, max_size=None) as ws:
        ws.send(json.dumps({"sample_rate": 16000, "format": "s16", "lookahead_ms": lookahead_ms}))
        ready = json.loads(ws.recv(timeout=10))
        fps = ready["fps"]
        stop = threading.Event()

        def reader():
            while True:
                m = json.loads(ws.recv(timeout=60))
                if m["type"] == "frame":
                    arrivals[m["index"]] = (time.perf_counter(), m["latency"])
                if m["type"] in ("end", "error"):
                    break
            stop.set()

        th = threading.Thread(target=reader, daemon=True)
        th.start()
        t0 = time.perf_counter()
        for i in range(0, len(y), step):
            # the chunk's audio is "captured" at t0 + its end time; send it then
            wait = t0 + (i + step) / 16000 - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            ws.send(y[i : i + step].tobytes())
        t_end = time.perf_counter()
        ws.send(json.dumps({"type": "end"}))
        th.join(60)
    lat = np.array([a - (t0 + (t + 0.5) / fps) for t, (a, _) in sorted(arrivals.items())]) * 1e3
    comp = np.array([v["compute_ms"] for _, v in arrivals.values()])
    n_rt = int(len(y) / 16000 * fps) - 5  # frames determined before the end message
    late = lat[:n_rt]
    out[key] = {
        "frames": len(arrivals),
        "algorithmic_ms": ready["latency"]["algorithmic_ms"],
        "p50": float(np.median(late)),
        "p95": float(np.percentile(late, 95)),
        "max": float(late.max()),
        "compute_p95": float(np.percentile(comp, 95)),
        "send_overrun_ms": 1e3 * (t_end - (t0 + len(y) / 16000)),
        # growth of the median latency from the first to the last 2 s: > 0 means behind
        "drift_ms": float(np.median(late[-2 * int(fps) :]) - np.median(late[: 2 * int(fps)])),
    }


def table(rows, cols):
    print("  ".join(f"{c:>14}" for c in cols))
    for r in rows:
        print(
            "  ".join(f"{r[c]:>14.1f}" if isinstance(r[c], float) else f"{r[c]:>14}" for c in cols)
        )


def bench_latency(server, seconds=8.0):
    y = load_speech(seconds)
    rows = []
    for la in (0, 40, 80, 120, 200):
        out = {}
        realtime_client(server.ws, y, la, out, 0)
        rows.append({"lookahead_ms": la, **out[0]})
    print("\n== end-to-end latency over loopback, one real-time client (ms from frame centre)")
    table(rows, ["lookahead_ms", "algorithmic_ms", "p50", "p95", "max", "compute_p95"])


def bench_concurrency(server, n, seconds):
    y = load_speech(seconds)
    out = {}
    ths = [
        threading.Thread(target=realtime_client, args=(server.ws, y, 40, out, i)) for i in range(n)
    ]
    for t in ths:
        t.start()
        time.sleep(0.013)  # stagger the chunk phases
    for t in ths:
        t.join(seconds + 120)
    rows = [{"client": i, **out[i]} for i in sorted(out)]
    print(f"\n== {n} concurrent real-time clients, 20 ms chunks, {seconds:g} s, look-ahead 40 ms")
    table(rows, ["client", "frames", "p50", "p95", "max", "drift_ms"])
    worst = max(r["max"] for r in rows)
    behind = [r["client"] for r in rows if r["drift_ms"] > 100]
    print(f"completed {len(out)}/{n}; worst frame latency {worst:.1f} ms; fell behind: {behind}")
    allp = [r["p50"] for r in rows]
    print(
        f"median of client p50s {np.median(allp):.1f} ms; "
        f"worst p95 {max(r['p95'] for r in rows):.1f} ms"
    )


def bench_accuracy(n_clips):
    from talkinghead.audio.io import load_audio
    from talkinghead.evaluate.metrics import mouth_corr, mouth_openness
    from talkinghead.face.tracking import track_video
    from talkinghead.streaming import EnergyAnimator

    data = REPO.parent / "shared" / "data"
    clips = sorted((data / "grid_s1" / "video").glob("*.mp4"))[:n_clips]
    if not clips:
        print("no GRID clips found; skipping accuracy")
        return
    las = (0, 40, 80, 120, 200)
    rs = {la: [] for la in las}
    for c in clips:
        tr = track_video(c, progress=False)
        truth = mouth_openness(tr.landmarks68)
        y, _ = load_audio(c, sr=16000)
        for la in las:
            res = EnergyAnimator(fps=tr.fps, lookahead_ms=la).offline(y)
            n = min(res.n_frames, tr.n_frames)
            rs[la].append(mouth_corr(res.mouth_open[:n], truth[:n], valid=tr.valid[:n]))
    print(f"\n== energy animator: mouth-opening r vs tracked truth, {len(clips)} GRID clips")
    for la in las:
        print(f"lookahead {la:>3} ms: mean r = {np.mean(rs[la]):.3f} (sd {np.std(rs[la]):.3f})")


class SubprocessServer:
    """The server in its own process (clients here must not share its GIL), 32 per IP."""

    def __init__(self) -> None:
        import socket
        import subprocess

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        code = (
            "import uvicorn; from talkinghead.serve.app import ServeConfig, create_app, "
            f"uvicorn_options; c = ServeConfig(port={port}, max_sessions_per_ip=32); "
            f"uvicorn.run(create_app(c), host='127.0.0.1', port={port}, log_level='error', "
            "**uvicorn_options(c))"
        )
        self.proc = subprocess.Popen([sys.executable, "-c", code])
        self.http, self.ws = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
        import httpx

        for _ in range(200):
            try:
                httpx.get(self.http + "/health")
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--grid", type=int, default=10, help="GRID clips for accuracy (0: skip)")
    ap.add_argument("--skip", nargs="*", default=[], help="latency concurrency accuracy")
    a = ap.parse_args()
    server = SubprocessServer()
    try:
        if "latency" not in a.skip:
            bench_latency(server)
        if "concurrency" not in a.skip:
            bench_concurrency(server, a.clients, a.seconds)
            import httpx

            print("server /stats:", json.dumps(httpx.get(server.http + "/stats").json()))
    finally:
        server.close()
    if a.grid and "accuracy" not in a.skip:
        bench_accuracy(a.grid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
