"""``talkinghead render``: draw stored 68-point landmarks as a sketch video."""

from __future__ import annotations

from .._util.outputs import check_io
from ..errors import InvalidArgumentError
from .args import FPS, VIDEO_SIZE, check_suffix

__all__ = ["register", "cmd_render"]


def _load_landmarks(path: str, fps_override: float | None):
    """Landmarks (T, 68, 2) and fps from an animate or track .npz."""
    import numpy as np

    try:
        z = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise InvalidArgumentError(f"landmarks={path!r} must be an existing .npz file") from None
    except Exception as e:  # not an npz
        raise InvalidArgumentError(
            f"landmarks={path!r} must be an .npz written by 'talkinghead animate' or "
            f"'talkinghead track' ({type(e).__name__})"
        ) from None
    with z:
        key = "landmarks" if "landmarks" in z else "landmarks68" if "landmarks68" in z else None
        if key is None:
            raise InvalidArgumentError(
                f"landmarks={path!r} must hold an array 'landmarks' or 'landmarks68' "
                f"(found {sorted(z.files)})"
            )
        try:
            lm = np.asarray(z[key], dtype=np.float64)[..., :2]
            fps = fps_override or (float(z["fps"]) if "fps" in z else None)
        except Exception as e:  # a damaged member, a non-numeric fps
            raise InvalidArgumentError(
                f"landmarks={path!r} must hold readable arrays ({type(e).__name__}: {e})"
            ) from None
    if lm.ndim != 3 or lm.shape[1:] != (68, 2) or len(lm) == 0:
        raise InvalidArgumentError(
            f"landmarks={path!r} must hold landmarks of shape (T, 68, 2) with T >= 1 "
            f"(found {lm.shape})"
        )
    if fps is None:
        raise InvalidArgumentError(f"--fps=None must be given: {path!r} stores no fps")
    if not (np.isfinite(fps) and 0 < fps <= 240):
        raise InvalidArgumentError(f"fps={fps!r} stored in {path!r} must be in (0, 240]")
    return lm, fps


def cmd_render(args) -> int:
    from ..render.sketch import render_landmarks_video

    check_suffix(args.output, (".mp4",))
    check_io(inputs={"landmarks": args.landmarks, "--audio": args.audio,
                     "--reference": args.reference}, files={"output": args.output})  # fmt: skip
    lm, fps = _load_landmarks(args.landmarks, args.fps)
    ref = None
    if args.reference:
        ref, _ = _load_landmarks(args.reference, fps)
    y = sr = None
    if args.audio:
        from ..audio.io import load_audio

        y, sr = load_audio(args.audio, sr=44100)
    render_landmarks_video(
        args.output, lm, fps=fps, audio=y, sr=sr, size=args.size, reference=ref, progress=True
    )
    print(f"rendered {len(lm)} frames at {fps:g} fps -> {args.output}")
    return 0


def register(sub) -> None:
    """Add ``render`` to an argparse subparsers object."""
    s = sub.add_parser(
        "render",
        help="render landmarks (.npz from animate or track) to an MP4 sketch video",
        description="Draw the 68-point landmarks of LANDMARKS.npz as a face sketch video, with "
        "--audio muxed in; --reference adds the real face side by side (real left).",
    )
    s.add_argument("landmarks", help=".npz written by 'talkinghead animate' or 'talkinghead track'")
    s.add_argument("--audio", help="audio (or video) whose sound is muxed into the output")
    s.add_argument("--reference", help="second .npz shown on the left (e.g. the tracked real face)")
    s.add_argument("--fps", type=FPS, help="override the stored frame rate (1-240)")
    s.add_argument("--size", type=VIDEO_SIZE, default=256, help="panel size, 16-4096 px (256)")
    s.add_argument("-o", "--output", required=True, help="output .mp4")
    s.set_defaults(func=cmd_render)
