"""Train the learned mouth's detail net (issue 18, session 10) on large training-side faces.

Usage::

    python scripts/train_mouth_detail.py --prepared PREP/hunt PREP/old --work WORK \
        [--steps 3000] [--min-iod 70] [--per-clip 60] [--max-minutes 40] [--threads 1]
        [--generator DIR] [--adv 0.05] [--out src/talkinghead/data/mouth_detail]

Pairs (``talkinghead.training.mouth_generator_train.build_detail_data``) come from the
clips of the mouth_v2 split's training side with >= ``--min-iod`` px between the eyes: the
real crop at up to 192 px as the target, the shipped learned mouth (``--generator``, default
``src/talkinghead/data/mouth_generator``) on its 96 px version as the input. Cached in
``WORK/detail_pairs.npz``; training resumes from ``WORK/last``. The held-out people (the
split's test side) are never read here. ``--adv W`` adds W x a hinge PatchGAN term
(discriminator learning rate ``--d-lr``), e.g. when resuming a finished L1 run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SPLIT = REPO / "src/talkinghead/evaluate/splits/mouth_v2.json"


def main() -> None:
    import torch

    ap = argparse.ArgumentParser()
    ap.add_argument("--prepared", nargs="+", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out")
    ap.add_argument("--generator", help="learned-mouth folder (default: the shipped one)")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--min-iod", type=float, default=70.0)
    ap.add_argument("--per-clip", type=int, default=60)
    ap.add_argument("--channels", type=int, default=16)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--lap", type=float, default=1.0, help="Laplacian-pyramid L1 weight")
    ap.add_argument("--adv", type=float, default=0.0, help="PatchGAN hinge term weight")
    ap.add_argument("--d-lr", type=float, default=4e-4)
    ap.add_argument("--max-minutes", type=float)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from talkinghead.models.mouth_detail import MouthDetailConfig
    from talkinghead.render.photo import load_mouth_generator
    from talkinghead.training.mouth_generator_train import build_detail_data, train_detail

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    cache = work / "detail_pairs.npz"
    if cache.is_file():
        z = np.load(cache)
        data = {k: z[k] for k in z.files}
    else:
        s = json.loads(SPLIT.read_text())
        test, excl = set(s["test"]), set(s["excluded"])
        data = build_detail_data(
            [Path(p) for p in args.prepared],
            keep=lambda r: r not in test and r not in excl,
            generator=load_mouth_generator(args.generator),
            min_iod=args.min_iod,
            per_clip=args.per_clip,
            seed=args.seed,
        )
        tmp = cache.with_suffix(".tmp.npz")
        np.savez(tmp, **data)
        tmp.replace(cache)
    sides = sorted(set(data["size"].tolist()))
    print(f"\n{len(data['target'])} pairs from {len(data['ids'])} training-side clips, crop "
          f"sides {sides}: {', '.join(data['ids'].tolist())}", flush=True)  # fmt: skip
    ms = None if args.max_minutes is None else 60 * args.max_minutes
    cfg = MouthDetailConfig(base_channels=args.channels)
    model = train_detail(data, work, config=cfg, steps=args.steps, batch_size=args.batch,
                         lr=args.lr, seed=args.seed, max_seconds=ms,
                         lap_weight=args.lap, adv_weight=args.adv,
                         d_lr=args.d_lr)  # fmt: skip
    if args.out:
        from talkinghead._util.checkpoint import replace_folder

        out = replace_folder(args.out, model.save_pretrained)
        print(f"wrote {out} ({model.n_params} parameters)")


if __name__ == "__main__":
    main()
