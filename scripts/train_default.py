"""Train the default model (``make pretrained``-style): track, featurise, fit, save.

Data (read-only, from ``../shared/data`` or ``$TALKINGHEAD_SHARED_DATA``): ``--n-grid``
GRID s1 clips (a fixed random choice, seed 0) plus the 21 evaluation clips with speech
and a face of ``bench/eval_baselines.py``. Tracks and features are cached under
``--cache`` (default ``/tmp/th_default/recipe``) and reused. With ``--loso`` it first
prints the leave-one-speaker-out median r of the same recipe on those 21 clips.

With ``--student DIR`` (a front end distilled by ``scripts/train_student.py``) the read-out
is fitted on that student's features instead of Whisper's, and the checkpoint holds the
student too (the fast default, ``src/talkinghead/data/default_fast``).

Usage::

    python scripts/train_default.py [--out src/talkinghead/data/default_lipsync]
        [--n-grid 600] [--lam 3e4] [--loso] [--student DIR] [--grid-only]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TALKINGHEAD_SHARED_DATA", REPO.parent / "shared" / "data"))


def eval_clips(cache: Path):
    from talkinghead.evaluate.clips import EVAL_CLIPS, EVAL_SPEAKERS
    from talkinghead.recipes.default import prepare_clip

    out = []
    for rel in EVAL_CLIPS:
        p = DATA / rel
        audio = p.with_suffix(".wav") if p.with_suffix(".wav").is_file() else None
        spk = EVAL_SPEAKERS.get(p.stem, p.stem)
        c = prepare_clip(p, cache_dir=cache, audio=audio, speaker=spk, size=None)
        c.audio = audio or p
        out.append(c)
    return out


def grid_clips(cache: Path, n: int):
    from talkinghead.recipes.default import prepare_clip

    vids = sorted((DATA / "grid_s1" / "video").glob("*.mp4"))
    rng = np.random.default_rng(0)
    rng.shuffle(vids)
    out = []
    for v in vids[:n]:
        c = prepare_clip(v, cache_dir=cache, speaker="grid_s1")
        c.audio = v
        out.append(c)
    return out


def use_student(clips, student):
    """Replace each clip's Whisper features by the student's (computed from its audio)."""
    from talkinghead.audio.io import load_audio
    from talkinghead.models.student import student_features

    for c in clips:
        y, sr = load_audio(c.audio, sr=16000)
        c.features = student_features(student, y=y, sr=sr, fps=c.fps, n_frames=len(c.valid))


def loso(evals, grid, lam, student=None):
    from talkinghead.evaluate.metrics import mouth_corr
    from talkinghead.recipes.default import fit_default_model

    rs = []
    for c in evals:
        train = [o for o in evals + grid if o.speaker != c.speaker]
        m = fit_default_model(train, lam=lam, student=student)
        r = mouth_corr(m.predict_zscore(c.features), c.openness, valid=c.valid)
        rs.append(r)
        print(f"  {c.id:32s} r={r:.3f}", flush=True)
    print(f"LOSO median r = {np.median(rs):.3f} (mean {np.mean(rs):.3f}) over {len(rs)} clips")
    return rs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(REPO / "src/talkinghead/data/default_lipsync"))
    ap.add_argument("--cache", default="/tmp/th_default/recipe")
    ap.add_argument("--n-grid", type=int, default=600)
    ap.add_argument("--lam", type=float, default=3e4)
    ap.add_argument("--loso", action="store_true", help="also run the LOSO evaluation")
    ap.add_argument("--student", help="fit on this distilled front end's features")
    ap.add_argument("--grid-only", action="store_true",
                    help="fit on the GRID s1 clips only (the distillation teacher: it never "
                    "sees the evaluation clips)")  # fmt: skip
    args = ap.parse_args(argv)
    if not (DATA / "MANIFEST.tsv").is_file():
        print(f"real data not found at {DATA}; set TALKINGHEAD_SHARED_DATA", file=sys.stderr)
        return 1
    from talkinghead.recipes.default import fit_default_model

    t0 = time.perf_counter()
    cache = Path(args.cache)
    evals = [] if args.grid_only else eval_clips(cache)
    grid = grid_clips(cache, args.n_grid)
    t1 = time.perf_counter()
    print(f"tracked + featurised {len(evals) + len(grid)} clips in {t1 - t0:.0f} s", flush=True)
    student = None
    if args.student:
        from talkinghead.models.student import SpeechStudent

        student = SpeechStudent.from_pretrained(args.student)
        use_student(evals + grid, student)
        print(f"student features in {time.perf_counter() - t1:.0f} s", flush=True)
    if args.loso and evals:
        loso(evals, grid, args.lam, student)
    model = fit_default_model(
        evals + grid,
        lam=args.lam,
        meta={
            "data": f"{len(grid)} GRID s1 clips"
            + ("" if args.grid_only else " + the 21 shared evaluation clips"),
            "recipe": "talkinghead.recipes.default",
            "frontend": "student (scripts/train_student.py)" if student else "whisper tiny.en",
        },
        student=student,
    )
    out = model.save_pretrained(args.out)
    print(f"saved {out} in {time.perf_counter() - t0:.0f} s total", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
