"""The ``talkinghead study`` commands (registered by :func:`register`).

::

    talkinghead study make OUT_DIR --system NAME=DIR --system NAME=DIR [--clips C ...]
                           [--seed 0] [--no-ab | --no-mos] [--ab-repeats 1|2]
    talkinghead study serve STUDY_DIR [--host 127.0.0.1] [--port 8010]
    talkinghead study report STUDY_DIR [--json PATH] [--md PATH] [--level 0.95]

Parsing these imports nothing heavy: every handler imports its module when it runs.
"""

from __future__ import annotations

import argparse

from .._util.outputs import check_io
from ..errors import InvalidArgumentError
from .args import int_in

__all__ = ["register", "cmd_study_make", "cmd_study_serve", "cmd_study_report"]


def _system(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise argparse.ArgumentTypeError(f"{text!r} must be NAME=DIR")
    return name.strip(), path.strip()


def _level(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be in (0, 1)")
    return v


def cmd_study_make(args) -> int:
    from ..study.manifest import make_study

    names = [n for n, _ in args.system]
    if len(args.system) != 2 or len(set(names)) != 2:
        raise InvalidArgumentError(
            f"--system={names!r} must be given twice, with two different names"
        )
    check_io(inputs={"--system": [d for _, d in args.system]}, dirs={"OUT_DIR": args.out_dir})
    st = make_study(
        args.out_dir,
        dict(args.system),
        clips=args.clips,
        seed=args.seed,
        ab=args.ab,
        mos=args.mos,
        ab_repeats=args.ab_repeats,
    )
    n = st.settings["n_items"]
    print(
        f"study of {names[0]} vs {names[1]} on {len(st.settings['clips'])} clips: "
        f"{n['ab']} A/B pairs, {n['mos']} MOS items (seed {args.seed}) -> {args.out_dir}"
    )
    return 0


def cmd_study_serve(args) -> int:
    from ..study.server import create_study_app

    app = create_study_app(args.study_dir)
    import uvicorn

    st = app.state.study
    print(
        f"study: {len(st.items)} items, {len(st.sessions)} sessions so far; "
        f"open http://{args.host}:{args.port}/ (Ctrl-C to stop)",
        flush=True,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def cmd_study_report(args) -> int:
    from ..study.report import report_markdown, study_report, write_study_report

    check_io(inputs={"STUDY_DIR": args.study_dir}, files={"--json": args.json, "--md": args.md})
    rep = study_report(args.study_dir, level=args.level, seed=args.seed)
    print(report_markdown(rep), end="")
    write_study_report(rep, json_path=args.json, md_path=args.md)
    for p in (args.json, args.md):
        if p:
            print(f"-> {p}")
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``study`` (with ``make``, ``serve``, ``report``) to an argparse subparsers object."""
    p = subparsers.add_parser(
        "study",
        help="perceptual study: blinded A/B and MOS tests of two systems' videos",
        description="Build (make), run in the browser (serve) and score (report) a blinded "
        "perceptual study of two systems' videos of the same clips.",
    )
    sub = p.add_subparsers(dest="study_command", metavar="{make,serve,report}", required=True)
    m = sub.add_parser(
        "make",
        help="build blinded, randomised A/B pairs and MOS items",
        description="Copy (hard-link) two systems' videos of the same clips into OUT_DIR "
        "under random names and write the seeded, counterbalanced items (manifest.jsonl).",
    )
    m.add_argument("out_dir", metavar="OUT_DIR", help="the study folder to create")
    m.add_argument(
        "--system",
        type=_system,
        action="append",
        required=True,
        metavar="NAME=DIR",
        help="a system and its folder of <clip>.mp4 videos (give exactly two)",
    )
    m.add_argument("--clips", nargs="+", metavar="CLIP", help="clip names (default: all shared)")
    m.add_argument("--seed", type=int_in(0, 2**32 - 1), default=0,
                   help="seed of names, sides and order (0)")  # fmt: skip
    m.add_argument("--ab", action=argparse.BooleanOptionalAction, default=True, help="A/B pairs")
    m.add_argument("--mos", action=argparse.BooleanOptionalAction, default=True, help="MOS items")
    m.add_argument(
        "--ab-repeats", type=int, choices=[1, 2], default=1, help="2: also each pair swapped"
    )
    m.set_defaults(func=cmd_study_make)
    s = sub.add_parser(
        "serve",
        help="run the study in the browser (keyboard-driven)",
        description="Serve the study page: one rater per session, answers appended to "
        "STUDY_DIR/answers.jsonl; reopening a session's address resumes it.",
    )
    s.add_argument("study_dir", metavar="STUDY_DIR")
    s.add_argument("--host", default="127.0.0.1", help="bind address (127.0.0.1)")
    s.add_argument("--port", type=int_in(0, 65535), default=8010, help="TCP port (8010)")
    s.set_defaults(func=cmd_study_serve)
    r = sub.add_parser(
        "report",
        help="preference rates and MOS with confidence intervals",
        description="Unblind the answers: A/B preference with Wilson intervals and an exact "
        "binomial test, MOS with t and bootstrap intervals.",
    )
    r.add_argument("study_dir", metavar="STUDY_DIR")
    r.add_argument("--json", metavar="PATH", help="write the report as JSON")
    r.add_argument("--md", metavar="PATH", help="write the report as Markdown")
    r.add_argument("--level", type=_level, default=0.95, help="confidence level (0.95)")
    r.add_argument("--seed", type=int_in(0, 2**32 - 1), default=0, help="bootstrap seed (0)")
    r.set_defaults(func=cmd_study_report)
    return p
