"""Train the general refiner (Yi et al. 2020's multi-person stage) and ship it float16.

Videos (read-only, from ``../shared/data`` or ``$TALKINGHEAD_SHARED_DATA``): people who are
in none of the 21 evaluation clips of ``bench/eval_baselines.py`` and are not Barack Obama
(``bench/person_eval.py``'s person): the MEAD-style clips of M030, W009 and W011, CREMA-D
actor 1001, ``expression_source.mp4`` and ``--n-grid`` GRID s1 clips (a fixed seeded
choice). Pairs are cached under ``--work`` and training resumes from ``--work/train/last``.

``--prepared DIR ...`` (issue 18) trains instead on prepared corpora (``talkinghead
prepare``): the training side of ``evaluate/splits/mouth_v2.json`` only (its test and
excluded recordings are never read), minus ``--exclude-people`` (default
``barack_obama``: ``bench/person_eval.py``'s person), at most ``--per-person`` pairs of
each person from up to ``--max-clips`` of their clips (the stored tracks, no
re-tracking), cached in ``--work/prepared_pairs_<size>.npz``; ``--init`` fine-tunes from a
refiner folder (e.g. the 6-people refiner made by the first form).

Usage::

    python scripts/train_refiner.py [--out src/talkinghead/data/refiner_general]
        [--work /tmp/th_refiner] [--steps 1500] [--size 256] [--threads 2]
    python scripts/train_refiner.py --prepared PREP/hunt PREP/old --init REFINER_DIR
        [--per-person 32] [--max-clips 4] --work WORK --steps N --out OUT
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TALKINGHEAD_SHARED_DATA", REPO.parent / "shared" / "data"))
SPLIT = REPO / "src/talkinghead/evaluate/splits/mouth_v2.json"


def training_side(exclude_people=("barack_obama",)):
    """``keep(recording_id, person)`` for the mouth_v2 split's training side."""
    s = json.loads(SPLIT.read_text(encoding="utf-8"))
    banned = set(s["test"]) | set(s["excluded"])
    test_people = set(s["rules"].get("test_people", []))
    drop = set(exclude_people)
    return lambda rid, person: rid not in banned and person not in test_people | drop


def prepared_pool(prepared, work: Path, *, size: int, per_person: int, max_clips: int,
                  exclude_people) -> dict:  # fmt: skip
    """Pairs of the training-side people, cached in ``work/prepared_pairs_<size>.npz``."""
    import numpy as np

    from talkinghead._util.atomic import atomic_path
    from talkinghead.recipes.yi2020 import prepared_clips, prepared_pairs

    cache = work / f"prepared_pairs_{size}.npz"
    if cache.is_file():
        with np.load(cache) as z:
            return {k: z[k] for k in z.files}
    people = prepared_clips(prepared, keep=training_side(exclude_people))
    xs, ys, who = [], [], []
    for k, (person, clips) in enumerate(people.items()):
        p = prepared_pairs(clips, size=size, max_pairs=per_person, max_clips=max_clips)
        n = 0 if p is None else len(p.inputs)
        print(f"[{k + 1}/{len(people)}] {person}: {len(clips)} clips, {n} pairs", flush=True)
        if n:
            xs.append(p.inputs)
            ys.append(p.targets)
            who += [person] * n
    data = {"inputs": np.concatenate(xs), "targets": np.concatenate(ys),
            "person": np.asarray(who)}  # fmt: skip
    work.mkdir(parents=True, exist_ok=True)
    with atomic_path(cache) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **data)
    return data


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
    ap.add_argument("--prepared", nargs="+", help="prepared corpora (see the docstring)")
    ap.add_argument("--init", help="fine-tune from this refiner folder (with --prepared)")
    ap.add_argument("--per-person", type=int, default=32)
    ap.add_argument("--max-clips", type=int, default=4)
    ap.add_argument("--exclude-people", nargs="*", default=["barack_obama"])
    args = ap.parse_args(argv)
    if args.prepared:
        return _train_prepared(args)
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


def _train_prepared(args) -> int:
    import time

    import numpy as np
    import torch

    from talkinghead.training.refiner_train import train_refiner

    torch.set_num_threads(max(1, args.threads))
    work = Path(args.work)
    t0 = time.perf_counter()
    data = prepared_pool(args.prepared, work, size=args.size, per_person=args.per_person,
                         max_clips=args.max_clips, exclude_people=args.exclude_people)  # fmt: skip
    people = sorted(set(data["person"].tolist()))
    t_pairs = time.perf_counter() - t0
    print(f"{len(data['inputs'])} pairs of {len(people)} people ({t_pairs:.0f} s)", flush=True)
    res = train_refiner(data["inputs"], data["targets"], work / "train", steps=args.steps,
                        init=args.init, adv_start=args.adv_start, progress=False)  # fmt: skip
    if args.out:
        res.model.save_pretrained(args.out, half=True)
    counts = dict(zip(*np.unique(data["person"], return_counts=True), strict=True))
    info = {"n_pairs": len(data["inputs"]), "people": {k: int(v) for k, v in counts.items()},
            "init": args.init, "steps": res.steps, "seconds": round(res.seconds, 1),
            "final": res.history[-1] if res.history else None}  # fmt: skip
    print(json.dumps(info, indent=1))
    if args.out:
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
