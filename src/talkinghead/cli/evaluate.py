"""The ``talkinghead evaluate`` command (registered by :func:`register`).

::

    talkinghead evaluate MODEL_DIR CORPUS_DIR [--split test] [--report OUT_DIR]
                         [--baselines | --no-baselines] [--max-clips N] [--json PATH]

``MODEL_DIR`` is a trained model folder, or one of the words ``phonetic``, ``energy``,
``mean`` to evaluate a baseline itself. Prints the table of medians over clips, then the
papers' metrics pooled over frames where they apply (Pham 2017's parameter error and 3-D /
2-D landmark RMSE, Sakurai 2018's CORR, Eskimez 2018's lip MSE: see
:mod:`talkinghead.evaluate.paper_metrics`); ``--report`` also writes ``report.md``,
``results.json`` and PNG plots there.
"""

from __future__ import annotations

import argparse

from .._util.outputs import check_io
from ..errors import InvalidArgumentError
from .args import positive_int as _positive_int

__all__ = ["register", "cmd_evaluate"]


def cmd_evaluate(args) -> int:
    """Run :func:`talkinghead.evaluate.run.evaluate` and print / write the results."""
    check_io(inputs={"MODEL_DIR": args.model_dir, "CORPUS_DIR": args.corpus_dir,
                     "--prepared": args.prepared},
             files={"--json": args.json}, dirs={"--report": args.report})  # fmt: skip
    if args.protocol:
        return _cmd_heldout(args)
    if args.model_dir is None or args.corpus_dir is None:
        raise InvalidArgumentError(
            "MODEL_DIR and CORPUS_DIR must both be given (or use --protocol NAME --prepared DIR)"
        )
    from ..evaluate.run import evaluate, write_report

    result = evaluate(
        args.model_dir,
        args.corpus_dir,
        split=args.split,
        baselines=args.baselines,
        max_clips=args.max_clips,
        progress=True,
    )
    print(result.table(), end="")
    paper = result.paper_table()
    if paper:
        print("\nPapers' metrics, pooled over the frames of all clips:")
        print(paper, end="")
    if args.json:
        result.save_json(args.json)
        print(f"per-clip scores -> {args.json}")
    if args.report:
        path = write_report(result, args.report, title=f"Evaluation of {args.model_dir}")
        print(f"report -> {path}")
    return 0


def _cmd_heldout(args) -> int:
    from ..evaluate.heldout import DEFAULT_SYSTEMS, evaluate_heldout

    if not args.prepared:
        raise InvalidArgumentError(f"--protocol={args.protocol!r} needs --prepared DIR [DIR ...]")
    if args.corpus_dir is not None:
        raise InvalidArgumentError(
            f"CORPUS_DIR={args.corpus_dir!r} must not be given with --protocol (use --prepared)"
        )
    systems = [args.model_dir] if args.model_dir else []
    if args.models is not None:
        systems += args.models
    elif args.baselines:
        systems += list(DEFAULT_SYSTEMS)
    systems = list(dict.fromkeys(systems))
    if not systems:
        raise InvalidArgumentError("no system to score: give NAME or --models")
    res = evaluate_heldout(
        systems,
        args.prepared,
        split=args.protocol,
        max_clips=args.max_clips,
        peers_dir=args.peers_dir,
        progress=True,
        transcripts=args.transcripts,
    )
    cov = res.coverage
    print(
        f"split {args.protocol}: {cov['listed']} test recordings listed, {cov['found']} "
        f"prepared, {len(cov['rejected'])} rejected by QC, {cov['scored']} scored"
        + (f" ({args.max_clips} at most)" if args.max_clips else "")
        + f"; transcripts for /p b m/: {cov['transcripts']['known']} known, "
        f"{cov['transcripts']['whisper']} by Whisper; medians over clips\n"
    )
    print(res.table(), end="")
    if args.json:
        res.save_json(args.json)
        print(f"per-clip scores -> {args.json}")
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``evaluate`` sub-command to an argparse ``subparsers`` object.

    The parser's ``func`` default is :func:`cmd_evaluate` (``args.func(args)`` runs it).
    """
    p = subparsers.add_parser(
        "evaluate",
        help="score a model (and baselines) on a prepared corpus",
        description=(
            "Score a trained model, or a baseline (MODEL_DIR = phonetic, energy or mean), "
            "on the clips of a prepared corpus: mouth-opening correlation, lip-sync offset, "
            "bilabial closures, jitter, silence motion, landmark errors; and the papers' "
            "metrics pooled over frames (Pham's parameter error and landmark RMSE, "
            "Sakurai's CORR, Eskimez's lip MSE) where the model gives their inputs."
        ),
    )
    p.add_argument(
        "model_dir",
        metavar="MODEL_DIR",
        nargs="?",
        help="model folder, or phonetic|energy|mean (with --protocol: a model name)",
    )
    p.add_argument(
        "corpus_dir", metavar="CORPUS_DIR", nargs="?", help="folder written by `prepare`"
    )
    p.add_argument(
        "--split",
        default="test",
        choices=["train", "valid", "test", "all"],
        help="which clips to score (default: test)",
    )
    p.add_argument("--report", metavar="OUT_DIR", help="write report.md, results.json and plots")
    p.add_argument("--json", metavar="PATH", help="write the per-clip scores as JSON")
    p.add_argument(
        "--baselines",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also score the baselines on the same clips (default: yes)",
    )
    p.add_argument("--max-clips", type=_positive_int, help="score at most N clips")
    p.add_argument(
        "--protocol",
        choices=["mouth_v2"],
        help="held-out protocol: score on the test side of this shipped split",
    )
    p.add_argument(
        "--prepared", nargs="+", metavar="DIR", help="--protocol: prepared corpus folders"
    )
    p.add_argument(
        "--models",
        nargs="+",
        metavar="SYSTEM",
        help="--protocol: systems (default: default whisper phonetic energy openfacefx "
        "pylipsync; animate model names, energy, openfacefx, pylipsync, module:function)",
    )
    p.add_argument(
        "--peers-dir",
        metavar="DIR",
        help="--protocol: the peers' virtualenvs (default: $TALKINGHEAD_PEERS_DIR, /tmp/th_peers)",
    )
    p.add_argument(
        "--transcripts",
        choices=["known", "whisper"],
        default="known",
        help="--protocol: transcripts to force-align /p b m/ on: the known ones (GRID file "
        "names), or also Whisper tiny.en ones for every other English clip (default: known)",
    )
    p.set_defaults(func=cmd_evaluate)
    return p
