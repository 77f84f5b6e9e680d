"""Distil the Whisper tiny.en encoder into the fast student front end, then save it.

Audio (read-only, from ``../shared/data`` or ``$TALKINGHEAD_SHARED_DATA``): every speech file
except the 21 evaluation clips of ``bench/eval_baselines.py`` (and their audio twins), at most
``--max-per-folder`` files per folder (GRID s1: 500 of 1000), plus ``--n-tts`` espeak-ng
sentences; four copies each (:data:`talkinghead.recipes.student.AUGMENTATIONS`). Teacher
features are cached under ``--cache`` and reused. With ``--teacher DIR`` (a Whisper read-out
checkpoint, ``scripts/train_default.py --grid-only``) the student gets one more output trained
on that read-out's mouth z-score (the Whisper frames are 50/s, so the read-out's context
offsets are doubled).

With ``--prepared DIR ...`` (issue 12, session 13) the audio of every prepared clip on the
training side of ``--split`` is added (``recipes.student.prepared_sources``): no clip of the
test side, of an excluded recording or of a test person, none of ``--val-from``'s validation
clips nor any clip of their people, none of ``--exclude-clips``; a file of the data folder
that is the media of such a clip is dropped, and one that a kept clip reads is taken from
the prepared clip instead (so ``--prepared .../grid_s1`` replaces the 500 GRID s1 files by
every accepted GRID s1 clip). ``--crop-cap PREFIX=SHARE`` caps the share of training crops
drawn from cache files whose name starts with PREFIX (e.g. ``grid_s1__=0.25``).
``--r2-of DIR ...`` only scores existing students on the held-out files this cache and
seed give (the same files a training run here holds out)::

    python scripts/train_student.py --teacher DIR --prepared /work/prepared/hunt \
        /work/prepared/old /work/prepared/grid_s1 --val-from scripts/mouth_v2_val_clips.json \
        --exclude-clips bgbb2p bgbu3s pbbp3s pgbe3s bbbm2p bbiz2p pbiu8n bbaf2n \
        --crop-cap grid_s1__=0.25 --cache C --out OUT

Usage::

    python scripts/train_student.py [--out src/talkinghead/data/default_student]
        [--cache /tmp/th_student] [--steps 3000] [--n-tts 400] [--teacher DIR]
        [--prepared DIR ... [--split mouth_v2] [--val-from JSON] [--exclude-clips ID ...]]
        [--crop-cap PREFIX=SHARE] [--eval-every N] [--threads N] [--r2-of DIR ...]
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
    ap.add_argument(
        "--prepared",
        nargs="+",
        default=[],
        help="also the audio of these prepared folders' training-side clips",
    )
    ap.add_argument("--split", default="mouth_v2", help="shipped split (with --prepared)")
    ap.add_argument(
        "--val-from",
        help="validation clips (checkpoint or JSON list) kept out, with every clip of their people",
    )
    ap.add_argument("--exclude-clips", nargs="*", default=[], help="clip ids kept out")
    ap.add_argument(
        "--crop-cap",
        action="append",
        default=[],
        metavar="PREFIX=SHARE",
        help="at most SHARE of the training crops from files named PREFIX*",
    )
    ap.add_argument(
        "--eval-every", type=int, default=None, help="also measure the held-out R^2 every N steps"
    )
    ap.add_argument("--threads", type=int, default=None, help="torch threads")
    ap.add_argument(
        "--r2-of",
        nargs="+",
        default=[],
        help="only print the held-out R^2 of these students on this cache",
    )
    args = ap.parse_args(argv)
    caps = {}
    for kv in args.crop_cap:
        k, sep, v = kv.rpartition("=")
        try:
            caps[k] = float(v)
        except ValueError:
            sep = ""
        if not sep or not k:
            ap.error(f"--crop-cap {kv!r} must be PREFIX=SHARE")
    if args.prepared and not args.val_from:
        ap.error("--prepared needs --val-from (the validation clips must stay out)")
    if args.r2_of:
        from talkinghead.models.student import SpeechStudent
        from talkinghead.recipes.student import distill_r2

        for d in args.r2_of:
            m = SpeechStudent.from_pretrained(d)
            r = distill_r2(m, Path(args.cache) / "set")
            print(f"{d}: held-out R^2 {r['valid_r2']:.4f} on {r['valid_files']} files "
                  f"({len(r['valid_sources'])} sources)", flush=True)  # fmt: skip
        return 0
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if not (DATA / "MANIFEST.tsv").is_file():
        print(f"real data not found at {DATA}; set TALKINGHEAD_SHARED_DATA", file=sys.stderr)
        return 1
    from talkinghead.recipes.student import (
        DISTILL_EXCLUDE,
        DISTILL_EXCLUDE_DIRS,
        build_distill_set,
        distill_sources,
        merge_sources,
        prepared_sources,
        train_student,
    )

    t0 = time.perf_counter()
    exclude = DISTILL_EXCLUDE | set(args.exclude_clips)  # by stem in the data folder, too
    sources = distill_sources(DATA, exclude=exclude, max_per_folder=args.max_per_folder,
                              exclude_dirs=DISTILL_EXCLUDE_DIRS)  # fmt: skip
    if args.prepared:
        from talkinghead.evaluate.splits import load_split
        from talkinghead.recipes.mouth import read_val_clips

        prep = prepared_sources(args.prepared, split=load_split(args.split),
                                val_clips=read_val_clips(args.val_from),
                                exclude_clips=args.exclude_clips)  # fmt: skip
        n_files = len(sources)
        sources, dropped = merge_sources(sources, prep)
        print(f"prepared clips: {prep['counts']}; {len(dropped)} of {n_files} data-folder "
              f"files dropped; {len(sources)} sources", flush=True)  # fmt: skip
        for sid, why in dropped:
            if not why.startswith("taken"):
                print(f"  dropped {sid}: {why}")
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
    if args.prepared:
        meta["prepared"] = {"dirs": [str(p) for p in args.prepared], "split": args.split,
                            "val_from": args.val_from, "exclude_clips": args.exclude_clips,
                            "counts": prep["counts"]}  # fmt: skip
    if caps:
        meta["crop_caps"] = caps
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
        crop_caps=caps or None,
        eval_every=args.eval_every,
    )
    print(json.dumps(logd, indent=1))
    print(f"saved {args.out} in {time.perf_counter() - t0:.0f} s total", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
