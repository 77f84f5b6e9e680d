"""CLI glue: ``talkinghead personalize VIDEO -o PERSON_DIR`` and ``animate AUDIO --person DIR``."""

from __future__ import annotations

from pathlib import Path

from .._util.outputs import check_io
from ..errors import InvalidArgumentError
from .args import int_in, read_transcript

__all__ = ["register", "add_person_arguments", "cmd_personalize", "cmd_animate_person"]


def register(subparsers) -> None:
    """Add the ``personalize`` sub-command."""
    s = subparsers.add_parser(
        "personalize",
        help="learn a person's talking face (head pose + refiner) from a short video of them",
        description="Track VIDEO (>= 300 frames of one person talking, with audio), pick a "
        "frontal mouth-closed reference frame, fit the person's head-pose model to their "
        "speech and train the face refiner; writes PERSON_DIR for 'animate --person'.",
    )
    s.add_argument("video", help="video of the person talking (with audio)")
    s.add_argument("-o", "--output", required=True, help="PERSON_DIR to write")
    s.add_argument("--steps", type=int_in(1, 1_000_000), default=1000,
                   help="refiner training steps (1000)")  # fmt: skip
    s.add_argument("--size", type=int_in(32, 1024), default=256,
                   help="refiner face-crop px, a multiple of 8 in 32-1024 (256)")  # fmt: skip
    s.add_argument("--max-frames", type=int_in(1), default=500, help="use the first frames (500)")
    s.add_argument("--min-frames", type=int_in(1), default=300, help="least usable frames (300)")
    s.add_argument("--seed", type=int_in(0, 2**32 - 1), default=0)
    s.add_argument("--refiner-init", default="general",
                   help="fine-tune from: 'general' (the shipped multi-person refiner), 'none' "
                   "(train from scratch) or a refiner folder (default: general)")  # fmt: skip
    s.add_argument("--av-offset", default="auto",
                   help="seconds the video's audio lags its lips: 'auto' (measure it), 'none' "
                   "(assume 0) or a number (default: auto)")  # fmt: skip
    s.add_argument("--mouth-steps", type=int_in(0, 1_000_000), default=200,
                   help="fine-tuning steps of the learned mouth on the person's frames; 0: "
                   "none (200)")  # fmt: skip
    s.set_defaults(func=cmd_personalize)


def add_person_arguments(parser) -> None:
    """Add ``--person PERSON_DIR`` to ``animate``."""
    parser.add_argument("--person", help="animate this PERSON_DIR (from 'personalize')")


def cmd_personalize(args) -> int:
    import json

    from ..personalize import personalize

    init = None if args.refiner_init == "none" else args.refiner_init
    check_io(inputs={"video": args.video, "--refiner-init": init if init != "general" else None},
             dirs={"output": args.output})  # fmt: skip
    if args.size % 8:
        raise InvalidArgumentError(f"--size={args.size} must be a multiple of 8")
    if args.min_frames > args.max_frames:
        raise InvalidArgumentError(
            f"--min-frames={args.min_frames} must be <= --max-frames={args.max_frames}"
        )
    av = args.av_offset
    if av not in ("auto", "none"):
        try:
            av = float(av)
        except ValueError:
            raise InvalidArgumentError(
                f"--av-offset={av!r} must be 'auto', 'none' or a number of seconds"
            ) from None
    out = personalize(
        args.video,
        args.output,
        max_frames=args.max_frames,
        size=args.size,
        steps=args.steps,
        min_frames=args.min_frames,
        seed=args.seed,
        refiner_init=init,
        av_offset=None if av == "none" else av,
        mouth_steps=args.mouth_steps,
        progress=True,  # -q silences it
    )
    meta = json.loads((out / "person.json").read_text(encoding="utf-8"))
    sync = meta.get("av_sync", {})
    print(
        f"personalised {args.video}: {meta['n_valid']}/{meta['n_frames']} frames, reference "
        f"frame {meta['reference_index']}, audio offset {sync.get('offset_s', 0) * 1000:+.0f} "
        f"ms ({sync.get('source')}), refiner {meta['refiner']['size']} px x "
        f"{meta['refiner']['steps']} steps from {meta['refiner'].get('init') or 'scratch'} in "
        f"{meta['seconds']['total']:.0f} s -> {out}"
    )
    return 0


def cmd_animate_person(args) -> int:
    """``animate --person``: speech + PERSON_DIR -> talking MP4 of that person."""
    from ..inference import animate
    from ..personalize import load_person
    from ..pipelines import render_person

    if Path(args.output).suffix.lower() not in (".mp4", ".m4v", ".mov", ".mkv"):
        raise InvalidArgumentError(f"--output={args.output!r} must be a video (.mp4) with --person")
    transcript = read_transcript(args)
    person = load_person(args.person)  # check the folder before the speech analysis
    anim = animate(
        args.audio,
        fps=args.fps or person.fps,
        transcript=transcript,
        model=args.model,
        closures=getattr(args, "closures", None),
    )
    render_person(
        args.audio,
        args.person,
        args.output,
        anim=anim,
        blinks=not args.no_blinks,
        head_pose=not args.no_head_motion,
        mouth=getattr(args, "mouth", "procedural"),
        mouth_model=getattr(args, "mouth_model", None),
        progress=True,  # -q silences it
    )
    if args.params:
        anim.save(args.params)
    print(
        f"animated {anim.duration:.2f} s of speech: {anim.n_frames} frames at {anim.fps:g} fps, "
        f"person {args.person} -> {args.output}"
    )
    return 0
