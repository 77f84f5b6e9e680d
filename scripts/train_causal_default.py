"""Distil the offline default model into the causal (streaming) default model, then save it.

Audio (read-only, from ``../shared/data`` or ``$TALKINGHEAD_SHARED_DATA``): the student
recipe's sources (every speech file except the 21 evaluation clips of
``bench/eval_baselines.py`` and their audio twins; the ``hunt/`` clips are left out too, as
they are kept for held-out evaluation), at most ``--max-per-folder`` files per folder, four
augmented copies each. Teacher: the shipped offline default model (``data/default_fast``).
Targets are cached under ``--cache`` and reused (a rerun resumes).

Usage::

    python scripts/train_causal_default.py [--out src/talkinghead/data/default_causal]
        [--cache /tmp/th_causal] [--steps 2500] [--channels 128] [--max-per-folder 200]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TALKINGHEAD_SHARED_DATA", REPO.parent / "shared" / "data"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(REPO / "src/talkinghead/data/default_causal"))
    ap.add_argument("--cache", default="/tmp/th_causal")
    ap.add_argument("--steps", type=int, default=2500)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--channels", type=int, default=128)
    ap.add_argument("--crop-s", type=float, default=4.0)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--max-per-folder", type=int, default=200)
    ap.add_argument("--build-only", action="store_true")
    args = ap.parse_args(argv)
    if not (DATA / "MANIFEST.tsv").is_file():
        print(f"real data not found at {DATA}; set TALKINGHEAD_SHARED_DATA", file=sys.stderr)
        return 1

    from talkinghead.models.causal_default import CausalDefaultConfig
    from talkinghead.recipes.causal_default import build_causal_set, train_causal_default
    from talkinghead.recipes.student import DISTILL_EXCLUDE, DISTILL_EXCLUDE_DIRS, distill_sources

    t0 = time.perf_counter()
    sources = distill_sources(DATA, exclude=DISTILL_EXCLUDE, max_per_folder=args.max_per_folder,
                              exclude_dirs=DISTILL_EXCLUDE_DIRS)  # fmt: skip
    summ = build_causal_set(sources, Path(args.cache) / "set")
    print(
        f"causal set: {summ['written']} copies written ({summ['audio_seconds'] / 60:.1f} min), "
        f"{summ['kept']} kept, {len(summ['failed'])} sources unreadable, {summ['seconds']:.0f} s",
        flush=True,
    )
    for sid, why in summ["failed"]:
        print(f"  not used: {sid}: {why}")
    if args.build_only:
        return 0
    meta = {
        "recipe": "scripts/train_causal_default.py",
        "teacher": "data/default_fast (offline default model)",
        "sources": len(sources),
        "max_per_folder": args.max_per_folder,
        "command": " ".join(sys.argv[1:]),
    }
    _, logd = train_causal_default(
        Path(args.cache) / "set",
        args.out,
        config=CausalDefaultConfig(channels=args.channels),
        steps=args.steps,
        batch_size=args.batch_size,
        crop_s=args.crop_s,
        lr=args.lr,
        meta=meta,
    )
    print(json.dumps(logd, indent=1))
    print(f"saved {args.out} in {time.perf_counter() - t0:.0f} s total", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
