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

from .._util.cliargs import positive_int as _positive_int

__all__ = ["register", "cmd_evaluate"]


def cmd_evaluate(args) -> int:
    """Run :func:`talkinghead.evaluate.run.evaluate` and print / write the results."""
    from .run import evaluate, write_report

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
    p.add_argument("model_dir", metavar="MODEL_DIR", help="model folder, or phonetic|energy|mean")
    p.add_argument("corpus_dir", metavar="CORPUS_DIR", help="folder written by `prepare`")
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
    p.set_defaults(func=cmd_evaluate)
    return p
