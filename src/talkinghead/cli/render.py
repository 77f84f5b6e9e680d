"""``talkinghead render``: draw stored 68-point landmarks as a sketch video, or drive a
trained recipe checkpoint with speech and render what it predicts."""

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


def _render_model(args) -> int:
    """``render MODEL_DIR AUDIO``: the checkpoint's predictions for AUDIO as a video."""
    import json
    from pathlib import Path

    from ..audio.io import load_audio
    from ..recipes.synthesis import render_synthesis, synthesize

    speech = args.speech or args.audio
    if not speech:
        raise InvalidArgumentError(
            f"AUDIO=None must be given: {args.landmarks!r} is a model folder, rendered from speech"
        )
    check_io(inputs={"AUDIO": speech}, files={"output": args.output})
    if args.reference:
        raise InvalidArgumentError("--reference must not be given with a model folder")
    cfg = Path(args.landmarks) / "config.json"
    try:
        meta = json.loads(cfg.read_text(encoding="utf-8")).get("meta") or {}
    except (OSError, json.JSONDecodeError, AttributeError):
        meta = {}
    sr = int(meta.get("sr") or 16000)
    y, _ = load_audio(speech, sr=sr)
    s = synthesize(args.landmarks, y=y, sr=sr, transcript=args.transcript, emotion=args.emotion)
    if args.fps:
        s.fps = float(args.fps)
    y_out, sr_out = load_audio(speech, sr=44100)
    render_synthesis(s, args.output, audio=y_out, sr=sr_out, size=args.size, progress=True)
    print(
        f"rendered {s.n_frames} frames ({s.kind}, recipe {meta.get('recipe')}) at "
        f"{s.fps:g} fps -> {args.output}"
    )
    return 0


def cmd_render(args) -> int:
    import os

    from ..render.sketch import render_landmarks_video

    check_suffix(args.output, (".mp4",))
    if os.path.isdir(args.landmarks):
        return _render_model(args)
    if args.speech and args.audio:
        raise InvalidArgumentError("AUDIO and --audio must not both be given")
    args.audio = args.audio or args.speech
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
        help="render landmarks (.npz from animate or track), or a trained recipe model driven "
        "by speech, to an MP4",
        description="Draw the 68-point landmarks of LANDMARKS.npz as a face sketch video, with "
        "--audio muxed in; --reference adds the real face side by side (real left). Given a "
        "model folder from 'talkinghead train' and AUDIO, render what the model predicts from "
        "the speech: landmarks as a sketch, AAM codes as the AAM's face, Pham 2017's "
        "rotation + blendshapes on the 3-D head.",
    )
    s.add_argument(
        "landmarks",
        metavar="LANDMARKS_OR_MODEL",
        help=".npz written by 'talkinghead animate' or 'talkinghead track', or a model folder "
        "written by 'talkinghead train'",
    )
    s.add_argument("speech", nargs="?", metavar="AUDIO",
                   help="speech driving a model folder (or the audio muxed in)")  # fmt: skip
    s.add_argument("--transcript",
                   help="what is said (fan2015 / sakurai2018_baseline: phone labels)")  # fmt: skip
    s.add_argument("--emotion", help="emotion label of a sakurai2018_baseline model's input")
    s.add_argument("--audio", help="audio (or video) whose sound is muxed into the output")
    s.add_argument("--reference", help="second .npz shown on the left (e.g. the tracked real face)")
    s.add_argument("--fps", type=FPS, help="override the stored frame rate (1-240)")
    s.add_argument("--size", type=VIDEO_SIZE, default=256, help="panel size, 16-4096 px (256)")
    s.add_argument("-o", "--output", required=True, help="output .mp4")
    s.set_defaults(func=cmd_render)
