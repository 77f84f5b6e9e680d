"""Train the general refiner (Yi et al. 2020's multi-person stage) and ship it float16.

Videos (read-only, from ``../shared/data`` or ``$TALKINGHEAD_SHARED_DATA``): people who are
in none of the 21 evaluation clips of ``bench/eval_baselines.py`` and are not Barack Obama
(``bench/person_eval.py``'s person): the MEAD-style clips of M030, W009 and W011, CREMA-D
actor 1001, ``expression_source.mp4`` and ``--n-grid`` GRID s1 clips (a fixed seeded
choice). Pairs are cached under ``--work`` and training resumes from ``--work/train/last``.

Usage::

    python scripts/train_refiner.py [--out src/talkinghead/data/refiner_general]
        [--work /tmp/th_refiner] [--steps 1500] [--size 256] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TALKINGHEAD_SHARED_DATA", REPO.parent / "shared" / "data"))


def general_videos(data: Path, *, n_grid: int = 8) -> list[Path]:
    """The training videos (see the module docstring), in a fixed order."""
    import numpy as np

    vids = sorted((data / "ali-vilab__dreamtalk/data/style_clip/video").glob("*.mp4"))
    vids += sorted((data / "Strong-AI-Lab__emotion/tests/test_data/data").glob("*.flv"))
    vids += [data / "tanshuai0219__EDTalk/test_data/expression_source.mp4"]
    grid = sorted((data / "grid_s1/video").glob("*.mp4"))
    grid = [g for g in grid if g.stem != "bbaf2n"]  # an evaluation clip
    if grid:
        pick = np.random.default_rng(0).choice(len(grid), size=min(n_grid, len(grid)),
                                               replace=False)  # fmt: skip
        vids += [grid[i] for i in sorted(pick)]
    return [v for v in vids if v.is_file()]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(REPO / "src/talkinghead/data/refiner_general"))
    ap.add_argument("--work", default="/tmp/th_refiner")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--pairs-per-video", type=int, default=40)
    ap.add_argument("--n-grid", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--adv-start", type=float, default=0.2, help="share of the steps with L1 loss only"
    )
    args = ap.parse_args(argv)
    if not (DATA / "MANIFEST.tsv").is_file():
        print(f"no shared data at {DATA} (set TALKINGHEAD_SHARED_DATA)", file=sys.stderr)
        return 2
    import torch

    from talkinghead.recipes.yi2020 import pretrain_refiner

    torch.set_num_threads(max(1, args.threads))
    videos = general_videos(DATA, n_grid=args.n_grid)
    print(f"{len(videos)} videos")
    res = pretrain_refiner(videos, args.work, size=args.size, steps=args.steps,
                           max_pairs_per_video=args.pairs_per_video,
                           adv_start=args.adv_start)  # fmt: skip
    out = res.model.save_pretrained(args.out, half=True)
    info = {"n_pairs": res.n_pairs, "videos": res.videos, "failed": res.failed,
            "seconds": res.seconds, "steps": args.steps, "size": args.size}  # fmt: skip
    print(json.dumps(info, indent=1))
    print(f"wrote {out} ({res.n_pairs} pairs from {len(res.videos)} videos, "
          f"{len(res.failed)} failed)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
