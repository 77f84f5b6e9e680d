"""Train the learned mouth (issue 18) on the training side of the mouth_v2 split.

Usage::

    python scripts/train_mouth_generator.py --prepared PREP/hunt PREP/old --work WORK \
        [--steps 3000] [--size 96] [--max-minutes 20] [--lap 0.5] [--threads 1]
        [--guide --init src/talkinghead/data/mouth_generator]
        [--teeth --init src/talkinghead/data/mouth_generator]
        [--out src/talkinghead/data/mouth_generator]

``--lap W`` adds W x L1 of a 3-level Laplacian pyramid (a sharper high-frequency term);
``--profile W`` W x L1 of the inner-mouth row brightness profile; ``--adv W`` W x a hinge
PatchGAN term on the mouth (discriminator learning rate ``--d-lr``); ``--open-frac F``
draws that share of each batch from the most open quarter of the crops; ``--lr`` the
generator's learning rate (2e-3). ``--guide`` (session 11): the generator also sees the
procedural interior drawn at the target lips; with ``--init DIR`` (e.g. the shipped
unguided generator) the new input channels start at zero weights. ``--teeth`` (session 12):
the teeth control (one more channel: how much teeth show, measured on each real target
crop in training, predicted from the target 68 points at inference by a regression fitted
here on the training crops and stored in the checkpoint's config).

Crops are cached in ``WORK/crops_train.npz``; training resumes from ``WORK/last``. The
held-out people (the split's test side) are never read here.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SPLIT = REPO / "src/talkinghead/evaluate/splits/mouth_v2.json"


def load_crops(prepared, work: Path, size: int, side: str):
    from talkinghead.training.mouth_generator_train import build_crops

    path = work / f"crops_{side}_{size}.npz"
    if path.is_file():
        z = np.load(path)
        return {k: z[k] for k in z.files}
    s = json.loads(SPLIT.read_text())
    test, excl = set(s["test"]), set(s["excluded"])
    keep = (lambda r: r not in test and r not in excl) if side == "train" else test.__contains__
    data = build_crops([Path(p) for p in prepared], keep=keep, size=size)
    work.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **data)
    tmp.replace(path)
    return data


def main() -> None:
    import torch

    ap = argparse.ArgumentParser()
    ap.add_argument("--prepared", nargs="+", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--channels", type=int, default=16)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--max-minutes", type=float)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lap", type=float, default=0.0, help="Laplacian-pyramid L1 weight")
    ap.add_argument("--profile", type=float, default=0.0, help="inner-mouth row profile L1 weight")
    ap.add_argument("--adv", type=float, default=0.0, help="PatchGAN hinge term weight")
    ap.add_argument("--d-lr", type=float, default=2e-4)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--open-frac", type=float, default=0.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--init", help="start from this generator (unless WORK/last exists)")
    ap.add_argument("--guide", action="store_true",
                    help="guided by the procedural interior (an unguided --init gets zero "
                    "guide weights)")  # fmt: skip
    ap.add_argument("--teeth", action="store_true",
                    help="the teeth-visibility control (a --init without it gets a zero-weight "
                    "channel)")  # fmt: skip
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from talkinghead.models.mouth_generator import MouthGeneratorConfig
    from talkinghead.training.mouth_generator_train import train

    work = Path(args.work)
    data = load_crops(args.prepared, work, args.size, "train")
    print(f"\n{len(data['crops'])} crops, {len(data['ids'])} clips, "
          f"{len(set(data['person'].tolist()))} people (training side)", flush=True)  # fmt: skip
    cfg = MouthGeneratorConfig(size=args.size, base_channels=args.channels, guide=args.guide,
                               teeth=args.teeth)  # fmt: skip
    ms = None if args.max_minutes is None else 60 * args.max_minutes
    model = train(data, work, config=cfg, steps=args.steps, batch_size=args.batch,
                  seed=args.seed, max_seconds=ms, lap_weight=args.lap, lr=args.lr,
                  profile_weight=args.profile, adv_weight=args.adv, d_lr=args.d_lr,
                  open_frac=args.open_frac, init=args.init, guide=args.guide,
                  teeth=args.teeth)  # fmt: skip
    if args.out:
        from talkinghead._util.checkpoint import replace_folder

        out = replace_folder(args.out, model.save_pretrained)
        print(f"wrote {out} ({model.n_params} parameters)")


if __name__ == "__main__":
    main()
