"""Memory over a long stream: 10 minutes of speech through one StreamingAnimator.

    python bench/stream_soak.py [--minutes 10] [--model DIR]

Pushes examples/speech.wav (looped, 48 kHz int16, so the soxr resampler is exercised)
in 20 ms chunks as fast as possible, and prints the process RSS at the start, every
minute of audio, and at the end, with the frame count (must equal minutes x 60 x fps).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--model", help="checkpoint folder (default: the default animator)")
    a = ap.parse_args()
    import soundfile as sf
    import soxr

    from talkinghead.streaming import StreamingAnimator

    y, sr = sf.read(REPO / "examples" / "speech.wav", dtype="float32")
    y = (soxr.resample(y, sr, 48000) * 32767).astype(np.int16)
    sa = StreamingAnimator(sample_rate=48000, format="s16", model=a.model)
    step = 960  # 20 ms
    total = int(a.minutes * 60 * 48000)
    minute = 0
    n_frames = len(sa.push(y[:step].tobytes()))  # warm-up: imports, filters
    pos = step
    start_rss, t0 = rss_mb(), time.perf_counter()
    print(f"animator {sa.animator.name}; RSS at start {start_rss:.1f} MB")
    while pos < total:
        i = pos % len(y)
        chunk = (
            y[i : i + step]
            if i + step <= len(y)
            else np.concatenate([y[i:], y[: step - (len(y) - i)]])
        )
        n_frames += len(sa.push(chunk.tobytes()))
        pos += step
        if pos // (60 * 48000) > minute:
            minute = pos // (60 * 48000)
            print(f"  {minute:3d} min of audio: RSS {rss_mb():.1f} MB, {n_frames} frames")
    n_frames += len(sa.end())
    el = time.perf_counter() - t0
    print(
        f"RSS at end {rss_mb():.1f} MB (start {start_rss:.1f}); {n_frames} frames "
        f"(expected {round(total / 48000 * sa.fps)}); {total / 48000 / el:.0f}x real time"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
