"""Distil the Whisper tiny.en encoder into the fast student front end, then save it.

Audio (read-only, from ``../shared/data`` or ``$TALKINGHEAD_SHARED_DATA``): every speech file
except the 21 evaluation clips of ``bench/eval_baselines.py`` (and their audio twins), at most
``--max-per-folder`` files per folder (GRID s1: 500 of 1000), plus ``--n-tts`` espeak-ng
sentences; four copies each (:data:`talkinghead.recipes.student.AUGMENTATIONS`). Teacher
features are cached under ``--cache`` and reused. With ``--teacher DIR`` (a Whisper read-out
checkpoint, ``scripts/train_default.py --grid-only``) the student gets one more output trained
on that read-out's mouth z-score (the Whisper frames are 50/s, so the read-out's context
offsets are doubled).

Usage::

    python scripts/train_student.py [--out src/talkinghead/data/default_student]
        [--cache /tmp/th_student] [--steps 3000] [--n-tts 400] [--teacher DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TALKINGHEAD_SHARED_DATA", REPO.parent / "shared" / "data"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(REPO / "src/talkinghead/data/default_student"))
    ap.add_argument("--cache", default="/tmp/th_student")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--channels", type=int, default=192)
    ap.add_argument("--n-tts", type=int, default=400)
    ap.add_argument("--max-per-folder", type=int, default=500)
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--teacher", help="Whisper read-out checkpoint for the auxiliary mouth output")
    ap.add_argument(
        "--closure-teacher",
        help="a mouth checkpoint whose /p b m/ classifier reads Whisper frames "
        "(scripts/train_closure.py train --closure-frontend whisper): 2 x its p(/p b m/) "
        "becomes one more auxiliary output (issue 12, session 12)",
    )
    args = ap.parse_args(argv)
    if not (DATA / "MANIFEST.tsv").is_file():
        print(f"real data not found at {DATA}; set TALKINGHEAD_SHARED_DATA", file=sys.stderr)
        return 1
    from talkinghead.recipes.student import (
        DISTILL_EXCLUDE,
        DISTILL_EXCLUDE_DIRS,
        build_distill_set,
        distill_sources,
        train_student,
    )

    t0 = time.perf_counter()
    sources = distill_sources(DATA, exclude=DISTILL_EXCLUDE, max_per_folder=args.max_per_folder,
                              exclude_dirs=DISTILL_EXCLUDE_DIRS)  # fmt: skip
    summ = build_distill_set(sources, Path(args.cache) / "set", n_tts=args.n_tts)
    print(
        f"distillation set: {summ['written']} copies written ({summ['audio_seconds'] / 60:.1f} min "
        f"of audio), {summ['kept']} kept from an earlier run, {len(summ['failed'])} sources "
        f"unreadable, {summ['seconds']:.0f} s",
        flush=True,
    )
    for sid, why in summ["failed"]:
        print(f"  not used: {sid}: {why}")
    if args.build_only:
        return 0
    aux_fn = None
    meta = {"recipe": "scripts/train_student.py", "sources": len(sources), "n_tts": args.n_tts}
    if args.teacher:
        from talkinghead.models.default import DefaultModel

        t = DefaultModel.from_pretrained(args.teacher)
        t50 = DefaultModel(t.weight, t.bias, t.feature_mean, t.feature_scale,
                           [2 * o for o in t.offsets])  # fmt: skip
        aux_fn = t50.predict_zscore
        meta["aux"] = f"mouth z-score of {args.teacher} ({t.meta.get('data', '?')})"
    if args.closure_teacher:
        from talkinghead.models.mouth import MouthModel

        closure = MouthModel.from_pretrained(args.closure_teacher).closure
        if closure is None or closure.in_mean is None:
            print(f"--closure-teacher={args.closure_teacher} holds no Whisper-frame classifier",
                  file=sys.stderr)  # fmt: skip
            return 1
        mouth_fn = aux_fn

        def aux_fn(feat, mouth_fn=mouth_fn):
            z = 2.0 * closure.prob(closure.standardize(feat)).astype(np.float32)
            return z if mouth_fn is None else np.stack([mouth_fn(feat), z], axis=1)

        meta["aux_closure"] = f"2 x p(/p b m/) of the classifier of {args.closure_teacher}"
    _, logd = train_student(
        Path(args.cache) / "set",
        args.out,
        steps=args.steps,
        channels=args.channels,
        aux_fn=aux_fn,
        meta=meta,
    )
    print(json.dumps(logd, indent=1))
    print(f"saved {args.out} in {time.perf_counter() - t0:.0f} s total", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
