"""Mouth-opening correlation of the baselines on the 21 real clips with speech and a face.

The clips are the "first 21 clips" of ../shared/data/README.md (the 11 GRID .mpg, the
5 video-retalking faces, the 2 SadTalker reference videos, pose_source2, uncrop_Obama
and mouth_source.mp4 with mouth_source.wav). Each is tracked with Face Mesh; the truth
is the inner-lip gap ``|m13 - m14| / |m33 - m263|``. Prints a Markdown table per clip
and the medians (compare with the README's reference figures: energy 0.26, the
smoothed truth 0.98). Not a test. Usage::

    python bench/eval_baselines.py [--report OUT_DIR] [--transcripts]

``--transcripts`` adds a ``phonetic_tr`` system: the phonetic animator given the GRID
sentence (forced alignment) on the GRID clips.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from talkinghead.corpora.tsv import grid_transcript
from talkinghead.evaluate.clips import EVAL_CLIPS

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TALKINGHEAD_SHARED_DATA", REPO.parent / "shared" / "data"))

CLIPS = EVAL_CLIPS


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--report", help="also write report.md / results.json / plots there")
    ap.add_argument("--transcripts", action="store_true", help="add phonetic_tr on GRID clips")
    args = ap.parse_args(argv)
    if not (DATA / "MANIFEST.tsv").is_file():
        print(f"real data not found at {DATA}; set TALKINGHEAD_SHARED_DATA", file=sys.stderr)
        return 1

    from talkinghead.evaluate.baselines import phonetic_predict
    from talkinghead.evaluate.run import baseline_predict_fn, evaluate_clips, write_report
    from talkinghead.evaluate.truth import truth_from_video

    t0 = time.perf_counter()
    truths = []
    for rel in CLIPS:
        p = DATA / rel
        audio = p.with_suffix(".wav") if p.with_suffix(".wav").is_file() else None
        tr = grid_transcript(p) if p.suffix == ".mpg" else None
        truths.append(truth_from_video(p, audio=audio, transcript=tr, id=p.stem))
    t_track = time.perf_counter() - t0
    systems = {s: baseline_predict_fn(s) for s in ("energy", "phonetic", "truth_smoothed")}
    if args.transcripts:
        systems["phonetic_tr"] = lambda c: (
            None
            if not c.transcript
            else phonetic_predict(
                y=c.y, sr=c.sr, fps=c.fps, n_frames=c.n_frames, transcript=c.transcript
            )
        )
    t0 = time.perf_counter()
    res = evaluate_clips(truths, systems, with_phones=False)
    t_eval = time.perf_counter() - t0

    names = list(systems)
    print("| clip | fps | frames | " + " | ".join(f"{s} r (lag ms)" for s in names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    by = {(r["clip"], r["system"]): r for r in res.rows}
    for c in truths:
        cells = []
        for s in names:
            r = by.get((c.id, s))
            cells.append("-" if r is None else f"{r['mouth_r']:.3f} ({r['lag_ms']:+.0f})")
        print(f"| {c.id} | {c.fps:.3f} | {c.n_frames} | " + " | ".join(cells) + " |")
    print()
    print("| system | clips | median r | mean r | median lag (ms) |")
    print("|---|---|---|---|---|")
    for s in names:
        v = res.values(s, "mouth_r")
        lag = res.values(s, "lag_ms")
        v, lag = v[np.isfinite(v)], lag[np.isfinite(lag)]
        med = float(np.median(v)) if v.size else math.nan
        print(
            f"| {s} | {v.size} | {med:.3f} | {float(np.mean(v)):.3f} | "
            f"{float(np.median(lag)):+.0f} |"
        )
    print(f"\ntracking {t_track:.1f} s, baselines + scoring {t_eval:.1f} s")
    if args.report:
        print(f"report -> {write_report(res, args.report, title='Baselines on 21 real clips')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
