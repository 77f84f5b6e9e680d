"""Held-out accuracy of the streamed (causal) default model vs look-ahead, beside the offline one.

    python bench/stream_accuracy.py [--prepared /work/prepared/hunt] [--split mouth_v2]
        [--lookaheads 0 40 80 120 200] [--limit N]

Clips: the ``test`` side of the held-out split (``talkinghead.evaluate.splits.load_split``;
the issue-12 mouth v2 protocol: whole sources never trained on), read from a prepared
folder (``talkinghead prepare``: ``clips.jsonl`` with status ``ok``, ``arrays/*.npz``
with the tracked ``lip_aperture`` and ``valid`` per video frame). Only test recordings
prepared so far are used; the count is printed.

Per clip, at the clip's own fps and frame count: the offline default model
(``animate(model="default")``, what ``talkinghead animate`` gives) and the causal default
model at each look-ahead (``LearnedAnimator.offline``: exactly what the server streams);
score: Pearson r at zero lag of ``mouth_open`` against the tracked inner-lip aperture over
valid frames (``talkinghead.evaluate.metrics.mouth_corr``); the table gives the median and
mean over clips, and on how many clips the causal model is within 0.05 of the offline one.
The causal model was distilled from the offline default model on audio only
(``scripts/train_causal_default.py``, the ``hunt/`` clips left out), so these clips are held
out for both.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prepared", default="/work/prepared/hunt")
    ap.add_argument("--split", default="mouth_v2")
    ap.add_argument("--lookaheads", type=float, nargs="+", default=[0, 40, 80, 120, 200])
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--model", default=None, help="causal checkpoint (default: the shipped one)")
    a = ap.parse_args(argv)
    from talkinghead.audio.io import load_audio
    from talkinghead.corpora.manifest import read_clips, read_recordings
    from talkinghead.evaluate.metrics import mouth_corr
    from talkinghead.evaluate.splits import load_split
    from talkinghead.inference import animate
    from talkinghead.models.causal_default import CausalDefaultModel
    from talkinghead.streaming import LearnedAnimator

    prep = Path(a.prepared)
    if not (prep / "clips.jsonl").is_file():
        print(f"no prepared clips at {prep}", file=sys.stderr)
        return 1
    split = load_split(a.split)
    recs = {r.id: r for r in read_recordings(prep)}
    clips = [c for c in read_clips(prep, status="ok") if split.side(c.recording) == "test"]
    clips = sorted(clips, key=lambda c: c.id)[: a.limit]
    model = CausalDefaultModel.from_pretrained(a.model)
    names = ["offline default"] + [f"causal {la:g} ms" for la in a.lookaheads]
    rs = {k: [] for k in names}
    sources = []
    t0 = time.perf_counter()
    for c in clips:
        rec = recs[c.recording]
        z = np.load(prep / c.path)
        truth, valid = z["lip_aperture"].astype(np.float64), z["valid"].astype(bool)
        valid &= np.isfinite(truth)
        truth = np.nan_to_num(truth)
        T = len(truth)
        if valid.sum() < 10:
            continue
        y, _ = load_audio(rec.audio, sr=16000)
        preds = {"offline default": animate(y, sr=16000, fps=c.fps, n_frames=T).mouth_open}
        for la in a.lookaheads:
            res = LearnedAnimator(model, fps=c.fps, lookahead_ms=la).offline(y)
            preds[f"causal {la:g} ms"] = res.mouth_open
        for k, p in preds.items():
            p = np.asarray(p, np.float64)[:T]
            if len(p) < T:
                p = np.pad(p, (0, T - len(p)), mode="edge")
            rs[k].append(mouth_corr(p, truth, valid=valid))
        sources.append(rec.extra.get("source", "?"))
    n = len(rs["offline default"])
    print(f"{n} test clips of split {a.split} from {prep} ({len(set(sources))} sources), "
          f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
    off = np.asarray(rs["offline default"])
    print(
        "| model | look-ahead | median r | mean r | median r - offline "
        "| clips within 0.05 of offline |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for k in names:
        r = np.asarray(rs[k])
        la = "offline (+-1.5 s)" if k == "offline default" else k.split()[1] + " ms"
        within = int(np.sum(r >= off - 0.05))
        print(f"| {k} | {la} | {np.median(r):.3f} | {np.mean(r):.3f} | "
              f"{np.median(r) - np.median(off):+.3f} | {within}/{n} |")  # fmt: skip
    by_src: dict[str, list[int]] = {}
    for i, s in enumerate(sources):
        by_src.setdefault(s, []).append(i)
    print("\nper source (median r):")
    print("| source | clips | " + " | ".join(names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for s, idx in sorted(by_src.items()):
        cells = [f"{np.median(np.asarray(rs[k])[idx]):.3f}" for k in names]
        print(f"| {s} | {len(idx)} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
