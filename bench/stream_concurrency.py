"""Concurrency of ``talkinghead serve``: per-session frame rate and lag for N live sessions.

    python bench/stream_concurrency.py [--sessions 1 8 20 25] [--seconds 20] [--lookahead 0]
        [--model default] [--cpu-budget CORES] [--no-admission] [--batch-interval-ms MS]

The server runs in its own process (``talkinghead.serve.app`` under uvicorn, the per-address
limit raised to 64 since every client is 127.0.0.1; everything else as shipped, admission
control included). This process runs the clients (asyncio, one connection each): every
client sends ``examples/speech.wav`` (16 kHz s16, looped) in 20 ms chunks on the wall
clock, as a microphone would (a chunk leaves when its last sample has "happened"), the
clients' start times staggered over 20 ms. Per session:

- **fps**: frames received while the audio ran, divided by its duration (real time = 25);
- **lag**: frame arrival minus the wall time at which the audio at the frame's centre
  ``(t + 0.5) / fps`` was produced (look-ahead, chunking, compute, queueing and loopback
  network included), p50 and p95 over the session's frames;
- **refused**: sessions the server closed with 1013 (admission control) and its reason;
- **batch_items**: the mean number of sessions per batch of the server's batcher;
- **cpu/session**: the server process's CPU time (user + system, all threads, from
  ``/proc``) while the clients ran, divided by the served sessions' seconds of audio: what
  one session costs in CPU seconds per second, less dependent on the machine's load than
  the lag (but a server that falls behind pushes bigger chunks, which cost less per second).

The table gives the median and the worst session of each run; each run's JSON line also
holds the server's ``/health`` admission numbers 60 % into the audio (``admission_mid``:
the fitted batch cost, the rest per session, the need) and after the run. The load of the machine
(``os.getloadavg``) is printed before and after each run: on a shared machine other
processes take cores from the server.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import socket
import subprocess
import sys
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


class Server:
    """``talkinghead.serve`` in a subprocess on a free port."""

    def __init__(self, *, model=None, cpu_budget=None, admission=True, batch_interval_ms=0.0):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        kw = f"port={port}, max_sessions_per_ip=64, admission={admission!r}"
        if model is not None:
            kw += f", model={model!r}"
        if cpu_budget is not None:
            kw += f", cpu_budget={float(cpu_budget)!r}"
        if batch_interval_ms:
            kw += f", batch_interval_ms={float(batch_interval_ms)!r}"
        code = (
            "import uvicorn; from talkinghead.serve.app import ServeConfig, create_app, "
            f"uvicorn_options; c = ServeConfig({kw}); "
            f"uvicorn.run(create_app(c), host='127.0.0.1', port={port}, "
            "log_level='error', **uvicorn_options(c))"
        )
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        self.proc = subprocess.Popen([sys.executable, "-c", code], env=env)
        self.http, self.ws = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
        import httpx

        for _ in range(600):
            try:
                self.health = httpx.get(self.http + "/health").json()
                return
            except httpx.TransportError:
                if self.proc.poll() is not None:
                    raise RuntimeError("server exited") from None
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def get(self, path):
        import httpx

        return httpx.get(self.http + path).json()

    def cpu_s(self) -> float:
        """CPU seconds (user + system, all threads) the server process has used so far."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):  # not Linux
            return float("nan")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


async def client(url, y, lookahead_ms, t_start, chunk_ms=20):
    import websockets

    step = int(16000 * chunk_ms / 1000)
    arrivals = {}
    res = {"refused": None, "error": None}
    try:
        async with websockets.connect(url, max_size=None) as ws:
            await ws.send(json.dumps({"sample_rate": 16000, "format": "s16",
                                      "lookahead_ms": lookahead_ms}))  # fmt: skip
            ready = json.loads(await ws.recv())
            if ready.get("type") != "ready":
                res["refused"] = ready.get("message")
                return res
            fps = ready["fps"]
            res["animator"] = ready["animator"]

            async def reader():
                async for raw in ws:
                    m = json.loads(raw)
                    if m["type"] == "frame":
                        arrivals[m["index"]] = time.perf_counter()
                    elif m["type"] in ("end", "error"):
                        if m["type"] == "error":
                            res["error"] = m.get("message")
                        return

            rd = asyncio.create_task(reader())
            loop_t0 = max(t_start, time.perf_counter())
            for i in range(0, len(y), step):
                wait = loop_t0 + (i + step) / 16000 - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                await ws.send(y[i : i + step].tobytes())
            await ws.send(json.dumps({"type": "end"}))
            await asyncio.wait_for(rd, 120)
    except Exception as e:  # a refused or dropped session is a result, not a crash
        code = getattr(getattr(e, "rcvd", None), "code", None)
        if code == 1013:
            res["refused"] = getattr(e.rcvd, "reason", "1013")
        elif not arrivals:
            res["error"] = f"{type(e).__name__}: {e}"
        else:
            res["error"] = f"{type(e).__name__} after {len(arrivals)} frames"
        if not arrivals:
            return res
    dur = len(y) / 16000
    n_rt = int(dur * fps) - 3  # frames due before the end message
    ts = sorted(t for t in arrivals if t < n_rt)
    lag = np.array([arrivals[t] - (loop_t0 + (t + 0.5) / fps) for t in ts]) * 1e3
    on_time = sum(1 for t in ts if arrivals[t] <= loop_t0 + dur)
    res.update({
        "frames": len(arrivals),
        "fps": on_time / dur,
        "lag_p50": float(np.median(lag)) if len(lag) else float("nan"),
        "lag_p95": float(np.percentile(lag, 95)) if len(lag) else float("nan"),
    })  # fmt: skip
    return res


async def run(url, n, seconds, lookahead_ms, mid=None):
    """The ``n`` clients; ``mid()`` (blocking, in a thread) runs once 60 % into the audio and
    its value is returned with the results."""
    y = load_speech(seconds)
    t0 = time.perf_counter() + 0.5
    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(client(url, y, lookahead_ms, t0 + 0.02 * i / n)))
        await asyncio.sleep(0.05)  # connect one after the other (admission sees each)
    mid_value = None
    if mid is not None:
        await asyncio.sleep(max(0.0, t0 + 0.6 * seconds - time.perf_counter()))
        mid_value = await asyncio.to_thread(mid)
    return await asyncio.gather(*tasks), mid_value


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, nargs="+", default=[1, 8, 20, 25])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--lookahead", type=float, default=0.0)
    ap.add_argument("--model", default=None, help="server --model (default: the shipped one)")
    ap.add_argument("--cpu-budget", type=float, default=None)
    ap.add_argument("--no-admission", action="store_true")
    ap.add_argument(
        "--batch-interval-ms",
        type=float,
        default=0.0,
        help="server batch_interval_ms (least time between batch starts; 0: none)",
    )
    a = ap.parse_args(argv)
    rows = []
    for n in a.sessions:
        server = Server(model=a.model, cpu_budget=a.cpu_budget, admission=not a.no_admission,
                        batch_interval_ms=a.batch_interval_ms)  # fmt: skip
        try:
            load0, cpu0 = os.getloadavg()[0], server.cpu_s()
            out, mid = asyncio.run(run(server.ws, n, a.seconds, a.lookahead,
                                       mid=functools.partial(server.get, "/health")))  # fmt: skip
            load1, cpu1 = os.getloadavg()[0], server.cpu_s()
            h = server.get("/health")
        finally:
            server.close()
        ok = [r for r in out if "fps" in r]
        refused = [r for r in out if r.get("refused")]
        errors = [r for r in out if r.get("error")]
        row = {
            "sessions": n,
            "served": len(ok),
            "refused": len(refused),
            "dropped": len(errors),
            "fps_median": float(np.median([r["fps"] for r in ok])) if ok else float("nan"),
            "fps_worst": float(min(r["fps"] for r in ok)) if ok else float("nan"),
            "lag_p50_median": float(np.median([r["lag_p50"] for r in ok])) if ok else float("nan"),
            "lag_p95_median": float(np.median([r["lag_p95"] for r in ok])) if ok else float("nan"),
            "lag_p95_worst": float(max(r["lag_p95"] for r in ok)) if ok else float("nan"),
            "cpu_per_session": (cpu1 - cpu0) / (len(ok) * a.seconds) if ok else float("nan"),
            "batch_items": h.get("batching", {}).get("mean_items"),
            "load": f"{load0:.1f}->{load1:.1f}",
            "animator": ok[0]["animator"] if ok else "-",
        }
        rows.append(row)
        print(json.dumps({"run": row, "admission": h.get("admission"),
                          "admission_mid": (mid or {}).get("admission"),
                          "refused_reason": refused[0]["refused"] if refused else None,
                          "errors": [r["error"] for r in errors][:3]}), flush=True)  # fmt: skip
    cols = ["sessions", "served", "refused", "dropped", "fps_median", "fps_worst",
            "lag_p50_median", "lag_p95_median", "lag_p95_worst", "cpu_per_session",
            "batch_items", "load"]  # fmt: skip
    print(f"\nlook-ahead {a.lookahead:g} ms, {a.seconds:g} s per session, animator "
          f"{rows[0]['animator'] if rows else '-'}, {os.cpu_count()} CPUs")  # fmt: skip
    print("| " + " | ".join(cols) + " |")
    print("|" + "---:|" * len(cols))
    for r in rows:
        cells = [(f"{r[c]:.4f}" if c == "cpu_per_session" else f"{r[c]:.1f}")
                 if isinstance(r[c], float) else str(r[c]) for c in cols]  # fmt: skip
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
