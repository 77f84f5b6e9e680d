"""CLI commands ``talkinghead prepare`` and ``talkinghead corpus stats``.

``register(subparsers)`` adds them to the main parser; each handler returns an exit code
and raises :class:`~talkinghead.errors.TalkingHeadError` subclasses on bad input.
"""

from __future__ import annotations

import sys

from .._util.outputs import check_io
from ..errors import InvalidArgumentError
from .args import int_in
from .args import positive_int as _positive_int

__all__ = ["register", "cmd_prepare", "cmd_corpus_stats"]


def _recipe_names() -> list[str]:
    return ["folder", "grid", "lrs", "ravdess", "crema-d", "savee", "mead", "person", "tsv"]


def register(subparsers) -> None:
    """Add ``prepare`` and ``corpus`` (with ``stats``) to an argparse subparsers object."""
    s = subparsers.add_parser(
        "prepare",
        help="prepare a corpus: track faces, compute audio features, check quality",
        description="Prepare the videos of CORPUS_DIR (laid out as corpus CORPUS expects) into "
        "OUT_DIR: per clip an .npz of face mesh, 68 landmarks, head pose and audio feature sets, "
        "manifests (recordings.jsonl, clips.jsonl, rejected.jsonl) and a quality report "
        "(qc_report.json, qc_summary.txt). A rerun resumes where a previous run stopped.",
    )
    s.add_argument("corpus", choices=_recipe_names(), help="corpus layout (recipe)")
    s.add_argument("corpus_dir", help="folder of the corpus (for 'person': a video or a folder)")
    s.add_argument("out_dir", help="output folder (created; an existing one is resumed)")
    s.add_argument("-j", "--jobs", type=int_in(1, 256), default=1, help="parallel workers (1)")
    s.add_argument(
        "--backend",
        choices=["local", "ray"],
        default="local",
        help="local processes or a Ray cluster (local)",
    )
    s.add_argument("--address", help="Ray cluster address (default: start a local Ray)")
    s.add_argument(
        "--features",
        nargs="+",
        metavar="SET",
        help="audio feature sets (default: sakurai2018 eskimez2018 pham2017)",
    )
    s.add_argument("--no-features", action="store_true", help="compute no audio features")
    s.add_argument(
        "--sr",
        type=int_in(8000, 192000),
        default=16000,
        help="sample rate the audio is analysed at (16000; the papers use 44100: "
        "Sakurai 2018, Pham 2017, Eskimez 2018). Video keeps its own frame rate "
        "(SAVEE 60 fps, RAVDESS 29.97 fps, GRID 25 fps)",
    )
    s.add_argument("--max-frames", type=_positive_int, help="use only the first N frames")
    s.add_argument(
        "--size",
        type=int_in(32, 8192),
        help="track on frames scaled so the longer side is SIZE pixels",
    )
    s.add_argument(
        "--window",
        type=_positive_int,
        help="cut recordings into clips of N frames (person: default 100)",
    )
    s.add_argument("--overlap", type=int_in(0), default=0, help="frames shared by two windows (0)")
    s.add_argument("--limit", type=_positive_int, help="process at most N recordings")
    s.add_argument("--speaker", help="speaker name (folder and person recipes)")
    s.add_argument(
        "--exclude",
        nargs="+",
        metavar="PREFIX",
        help="tsv recipe: skip MANIFEST.tsv files starting with PREFIX (e.g. grid_s1/)",
    )
    s.set_defaults(func=cmd_prepare)

    c = subparsers.add_parser("corpus", help="inspect a prepared corpus (stats)")
    csub = c.add_subparsers(dest="corpus_command", metavar="SUBCOMMAND", required=True)
    st = csub.add_parser(
        "stats",
        help="hours, clips, speakers, emotions, rejections; writes an overview PNG",
        description="Print statistics of OUT_DIR (written by 'talkinghead prepare') and write "
        "OUT_DIR/stats.json and OUT_DIR/stats.png (or --png).",
    )
    st.add_argument("out_dir", help="folder written by 'talkinghead prepare'")
    st.add_argument("--png", help="overview figure path (default OUT_DIR/stats.png)")
    st.set_defaults(func=cmd_corpus_stats)


def cmd_prepare(args) -> int:
    """Handler of ``talkinghead prepare``."""
    from ..corpora import RECIPES
    from ..corpora.pipeline import DEFAULT_FEATURES

    check_io(inputs={"corpus_dir": args.corpus_dir}, dirs={"out_dir": args.out_dir})
    opts: dict = {"backend": args.backend, "size": args.size, "max_frames": args.max_frames}
    if args.sr != 16000:
        opts["sr"] = args.sr
    if args.no_features:
        opts["features"] = ()
    else:
        opts["features"] = tuple(args.features) if args.features else DEFAULT_FEATURES
    if args.address:
        opts["address"] = args.address
    if args.limit:
        opts["limit"] = args.limit
    if args.speaker:
        if args.corpus not in ("folder", "person"):
            raise InvalidArgumentError(
                f"--speaker={args.speaker!r} must be used with the folder or person recipe"
            )
        opts["speaker"] = args.speaker
    if args.exclude:
        if args.corpus != "tsv":
            raise InvalidArgumentError(
                f"--exclude={args.exclude!r} must be used with the tsv recipe"
            )
        opts["exclude"] = tuple(args.exclude)
    if args.corpus == "person":
        if args.window:
            opts["window"] = args.window
        opts["overlap"] = args.overlap
    else:
        if args.window:
            opts["window"] = args.window
            if args.overlap:
                if not 0 <= args.overlap < args.window:
                    raise InvalidArgumentError(
                        f"--overlap={args.overlap} must be in [0, --window={args.window})"
                    )
                opts["hop"] = args.window - args.overlap
        elif args.overlap:
            raise InvalidArgumentError(f"--overlap={args.overlap} needs --window")
    res = RECIPES[args.corpus](args.corpus_dir, args.out_dir, num_jobs=args.jobs, **opts)
    fps = res.frames_per_second
    print(
        f"prepared {res.processed} recordings ({res.skipped} already done, {res.failed} failed): "
        f"{res.frames} frames in {res.seconds:.1f} s ({fps:.1f} frames/s); manifest holds "
        f"{res.clips} clips, {res.ok} ok, {res.rejected} rejected -> {res.out_dir}"
    )
    summary = res.out_dir / "qc_summary.txt"
    if summary.is_file() and res.rejected:
        print(f"see {summary} for the rejected and flagged clips")
    if res.crashed:
        print(
            f"talkinghead: {res.crashed} recordings were not processed (a worker died; see "
            f"{res.out_dir / 'prepare.log'}); run the same command again to retry them",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_corpus_stats(args) -> int:
    """Handler of ``talkinghead corpus stats``."""
    import json
    from pathlib import Path

    from .._util.atomic import write_text_atomic
    from ..corpora.stats import corpus_stats, format_stats, stats_figure

    png = Path(args.png) if args.png else Path(args.out_dir) / "stats.png"
    if png.suffix.lower() != ".png":
        raise InvalidArgumentError(f"--png={str(png)!r} must end in .png")
    if Path(args.out_dir).is_dir():  # else corpus_stats says what is wrong with it
        stats_json = Path(args.out_dir) / "stats.json"
        check_io(files={"--png": png, "stats.json": stats_json})
    st = corpus_stats(args.out_dir)
    print(format_stats(st), end="")
    stats_figure(st, png)
    public = {k: v for k, v in st.items() if not k.startswith("_")}
    write_text_atomic(Path(args.out_dir) / "stats.json", json.dumps(public, indent=1) + "\n")
    print(f"overview figure -> {png}")
    return 0
