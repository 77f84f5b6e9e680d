"""``talkinghead train``: the CLI handler (hooked into the main parser with :func:`register`).

Multi-process training runs the same arguments under torchrun::

    torchrun --nproc_per_node 2 -m talkinghead.training.ddp_entry RECIPE CORPUS_DIR -o MODEL_DIR
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["register", "add_train_arguments", "run_train"]


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``train`` (shared with :mod:`talkinghead.training.ddp_entry`)."""
    from ..recipes import RECIPES

    p.add_argument("recipe", choices=sorted(RECIPES), help="paper recipe")
    p.add_argument("corpus_dir", help="folder written by `talkinghead prepare`")
    p.add_argument("-o", "--output", required=True, dest="model_dir", help="model folder")
    from .args import float_in, int_in

    p.add_argument("--epochs", type=int_in(1, 100_000), default=None,
                   help="total epochs (recipe default)")  # fmt: skip
    p.add_argument("--topology", default=None, help="e.g. BBF, FBF, BFF, net1, lstm4")
    p.add_argument("--delay-ms", type=float_in(0, 1000), default=0.0,
                   help="look-ahead, 0-1000 ms (0, 40, 80 ms in the papers)")  # fmt: skip
    p.add_argument("--seed", type=int_in(0, 2**32 - 1), default=0)
    p.add_argument("--max-clips", type=int_in(1), default=None,
                   help="use at most N clips per split")  # fmt: skip
    p.add_argument("--batch-size", type=int_in(1, 65536), default=None)
    p.add_argument("--lr", type=float_in(0, 10, lo_open=True), default=None,
                   help="learning rate (recipe default)")  # fmt: skip
    p.add_argument("--patience", type=int_in(1, 100_000), default=None,
                   help="early-stopping patience")  # fmt: skip
    p.add_argument("--threads", type=int_in(1, 1024), default=None,
                   help="torch threads per process")  # fmt: skip
    p.add_argument(
        "--target",
        choices=("shape", "aam"),
        default=None,
        help="face code of sakurai2018 / fan2015 / sakurai2018_baseline: the AAM code (8 shape "
        "+ 8 appearance parameters, default, as the papers) or the landmark-shape PCA",
    )
    p.add_argument(
        "--lstm",
        choices=("keras", "torch"),
        default=None,
        help="eskimez2018's LSTM cells: the authors' Keras cells (sigmoid activation, hard "
        "sigmoid gates, recurrent dropout 0.2; default) or nn.LSTM's (tanh)",
    )
    p.add_argument(
        "--splits",
        default=None,
        help="JSON file of recording ids per split ({'train': [...], 'valid': [...], "
        "'test': [...]}, e.g. a protocol run's MODEL_DIR/splits.json): train on the same split",
    )
    p.add_argument(
        "--protocol",
        default=None,
        help="follow a paper's protocol (e.g. 'paper': its split, targets, topology, epochs; "
        "see talkinghead.recipes.protocols); explicit options still win",
    )


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``train`` sub-command to ``subparsers`` (from ``add_subparsers()``)."""
    p = subparsers.add_parser(
        "train",
        help="train a paper's model on a prepared corpus",
        description="Train RECIPE on CORPUS_DIR into MODEL_DIR (resumes from MODEL_DIR/last).",
    )
    add_train_arguments(p)
    p.set_defaults(func=run_train)
    return p


def _read_splits(path: str) -> dict:
    """``{"train", "valid", "test"}`` id lists from a JSON file."""
    from ..errors import InvalidArgumentError

    try:
        d = json.loads(open(path, encoding="utf-8").read())
        out = {k: [str(i) for i in d.get(k, [])] for k in ("train", "valid", "test")}
    except (OSError, json.JSONDecodeError, AttributeError, TypeError) as e:
        raise InvalidArgumentError(
            f"--splits={path!r} must be a JSON object of recording id lists per split: {e}"
        ) from None
    if not out["train"]:
        raise InvalidArgumentError(f"--splits={path!r} must list 'train' recordings")
    return out


def run_train(args: argparse.Namespace) -> int:
    """Build the recipe and :func:`~talkinghead.training.trainer.train`; prints a JSON summary."""
    from .._util.outputs import check_io
    from ..recipes import get_recipe
    from ..training.trainer import TrainConfig, result_to_dict, train

    check_io(inputs={"corpus_dir": args.corpus_dir}, dirs={"--output": args.model_dir})
    extra = {}
    opts: dict = {}
    protocol = None
    if args.protocol:
        from ..recipes.protocols import get_protocol

        protocol = get_protocol(args.recipe, args.protocol)
        extra.update(protocol.recipe_options)
        opts.update(protocol.train_options)
    if args.target is not None:
        from ..errors import InvalidArgumentError

        if args.recipe not in ("sakurai2018", "fan2015", "sakurai2018_baseline"):
            raise InvalidArgumentError(
                f"--target {args.target} needs recipe sakurai2018, fan2015 or "
                f"sakurai2018_baseline (recipe={args.recipe!r})"
            )
        extra["target"] = args.target
    if args.lstm is not None:
        from ..errors import InvalidArgumentError

        if args.recipe != "eskimez2018":
            raise InvalidArgumentError(
                f"--lstm {args.lstm} needs recipe eskimez2018 (recipe={args.recipe!r})"
            )
        extra["lstm"] = args.lstm
    # explicit command-line options win over the protocol's
    given = {
        "topology": args.topology,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "patience": args.patience,
    }
    opts.update({k: v for k, v in given.items() if v is not None})
    delay_ms = opts.pop("delay_ms", 0.0)
    if args.delay_ms:
        delay_ms = args.delay_ms
    recipe = get_recipe(args.recipe, delay_ms=delay_ms, **extra)
    splits = proto = None
    if args.splits:
        splits = _read_splits(args.splits)
        if protocol is not None:
            from ..errors import InvalidArgumentError

            raise InvalidArgumentError("--splits and --protocol must not both be given")
    if protocol is not None:
        splits = protocol.split_corpus(args.corpus_dir)
        proto = {
            "recipe": protocol.recipe,
            "name": protocol.name,
            "summary": protocol.summary,
            "deviations": protocol.deviations(args.corpus_dir, splits),
        }
        print(
            f"protocol {protocol.recipe}/{protocol.name}: {protocol.summary}; split "
            + ", ".join(
                f"{k} {len(splits.get(k, []))}" for k in ("train", "valid", "test", "left_out")
            )
            + "".join(f"\n  deviation: {d}" for d in proto["deviations"]),
            file=sys.stderr,
        )
    cfg = TrainConfig(
        seed=args.seed,
        delay_ms=delay_ms,
        max_clips=args.max_clips,
        lr=args.lr,
        num_threads=args.threads,
        splits=splits,
        protocol=proto,
        **opts,
    )
    res = train(recipe, args.corpus_dir, args.model_dir, cfg)
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0:
        out = result_to_dict(res)
        if getattr(recipe, "aam", None) is not None:  # the AAM's explained variance
            out["aam_variance_ratio"] = recipe.aam_variance_ratio()
        if proto is not None:
            out["protocol"] = proto
        print(json.dumps(out))
    return 0
