"""CLI glue for ``talkinghead animate AUDIO --photo FACE.jpg -o OUT.mp4``."""

from __future__ import annotations

from pathlib import Path

from ..errors import InvalidArgumentError
from .args import int_in, read_transcript

__all__ = ["add_photo_arguments", "cmd_animate_photo"]


def add_photo_arguments(parser) -> None:
    """Add ``--photo``, ``--face-index``, ``--no-blinks``, ``--no-head-motion`` to ``animate``."""
    parser.add_argument("--photo", help="animate this face photo (jpg, png, ...) into OUT.mp4")
    parser.add_argument(
        "--face-index", type=int_in(0, 99), help="which face of a photo with several (0 = largest)"
    )
    parser.add_argument("--no-blinks", action="store_true", help="photo: no eye blinks")
    parser.add_argument("--no-head-motion", action="store_true", help="photo: keep the head still")
    parser.add_argument(
        "--refine", action="store_true", help="photo: face through the general refiner (slower)"
    )


def cmd_animate_photo(args) -> int:
    """``animate --photo``: speech + one photo -> talking MP4 at the photo's resolution (at most
    2048 px; ``--size`` downscales)."""
    from ..inference import animate
    from ..pipelines import render_photo_video
    from ..render.photo import find_photo_face

    if Path(args.output).suffix.lower() not in (".mp4", ".m4v", ".mov", ".mkv"):
        raise InvalidArgumentError(f"--output={args.output!r} must be a video (.mp4) with --photo")
    transcript = read_transcript(args)
    from ..face.tracking import require_tracking

    require_tracking()  # the photo's face is found with mediapipe
    # check the photo before the (slower) speech analysis
    face = find_photo_face(args.photo, size=args.size, face_index=args.face_index)
    anim = animate(
        args.audio,
        fps=args.fps,
        transcript=transcript,
        model=args.model,
    )
    refiner = None
    if args.refine:
        from ..models.refiner import Refiner
        from ..recipes.yi2020 import GENERAL_DIR

        refiner = Refiner.from_pretrained(GENERAL_DIR)
    render_photo_video(
        args.output,
        face,
        args.audio,
        anim=anim,
        refiner=refiner,
        blink_seed=None if args.no_blinks else 0,
        head_motion=not args.no_head_motion,
        progress=True,  # -q silences it
    )
    if args.params:
        anim.save(args.params)
    print(
        f"animated {anim.duration:.2f} s of speech: {anim.n_frames} frames at {anim.fps:g} fps, "
        f"photo {args.photo} -> {args.output}"
    )
    return 0
