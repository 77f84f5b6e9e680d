"""``talkinghead track`` and ``talkinghead features``: measure real media (a face track, the
papers' acoustic feature sets)."""

from __future__ import annotations

from pathlib import Path

from .._util.outputs import check_io
from ..errors import InvalidArgumentError
from .args import FPS, TRACK_SIZE, VIDEO_EXTS, check_suffix, int_in, positive_int

__all__ = ["register", "cmd_track", "cmd_features"]


def cmd_track(args) -> int:
    from ..face.tracking import require_tracking, track_video

    check_suffix(args.output, (".npz",))
    check_io(inputs={"video": args.video}, files={"output": args.output})
    require_tracking()
    track = track_video(args.video, size=args.size, max_frames=args.max_frames, progress=True)
    track.save(args.output)
    n_valid = int(track.valid.sum())
    print(
        f"tracked {len(track.valid)} frames at {track.fps:.3f} fps: {n_valid} valid, "
        f"{int((track.n_faces == 0).sum())} without a face, "
        f"{int((track.n_faces > 1).sum())} with several faces -> {args.output}"
    )
    return 0


def cmd_features(args) -> int:
    from .._util.atomic import save_npy_atomic
    from ..audio.features import compute_features
    from ..audio.io import load_audio

    check_suffix(args.output, (".npy",))
    check_io(inputs={"audio": args.audio}, files={"output": args.output})
    fps, n_frames = args.fps, args.n_frames
    if Path(args.audio).suffix.lower() in VIDEO_EXTS and (fps is None or n_frames is None):
        from ..video.io import probe_video

        info = probe_video(args.audio)
        fps = fps or info.fps
        n_frames = n_frames or info.n_frames
    if fps is None:
        raise InvalidArgumentError("--fps=None must be given for an audio-only input")
    y, sr = load_audio(args.audio, sr=args.sr)
    longest = int(1.1 * len(y) / sr * fps + fps) + 1  # the audio's frames, +10 % and 1 s
    if n_frames is not None and n_frames > longest:
        raise InvalidArgumentError(
            f"--n-frames={n_frames} must be <= {longest} for {len(y) / sr:.2f} s of audio at "
            f"{fps:g} fps (rows past the audio's end are padding)"
        )
    x = compute_features(args.set, y=y, sr=sr, fps=fps, n_frames=n_frames)
    save_npy_atomic(args.output, x)
    print(f"{args.set}: {x.shape[0]} frames x {x.shape[1]} dims at {fps:.3f} fps -> {args.output}")
    return 0


def register(sub) -> None:
    """Add ``track`` and ``features`` to an argparse subparsers object."""
    s = sub.add_parser(
        "track",
        help="track a face in a video: 468-point mesh, 68 landmarks, head pose",
        description="Track the face in every frame of VIDEO with mediapipe Face Mesh. Frames "
        "with no face or several faces are flagged (valid=False), never dropped.",
    )
    s.add_argument("video", help="video file (mp4, mpg, avi, flv, mov, ...)")
    s.add_argument("-o", "--output", required=True, help="output .npz (mesh, landmarks68, pose...)")
    s.add_argument("--size", type=TRACK_SIZE, help="downscale frames: longer side SIZE (32-8192)")
    s.add_argument("--max-frames", type=positive_int, help="track only the first N frames")
    s.set_defaults(func=cmd_track)

    s = sub.add_parser(
        "features",
        help="compute an acoustic feature set, one row per video frame",
        description="Compute one of the papers' feature sets from AUDIO (any audio file or the "
        "audio track of a video) with one row per video frame. For a video input, --fps and "
        "--n-frames default to the video's own.",
    )
    s.add_argument("audio", help="audio or video file")
    s.add_argument(
        "--set",
        required=True,
        choices=["sakurai2018", "eskimez2018", "pham2017"],
        help="sakurai2018: 40-d MFCC/energy/deltas/F0; eskimez2018: log-mel differences; "
        "pham2017: 537-d mel+MFCC+chroma over three windows",
    )
    s.add_argument("--fps", type=FPS, help="video frame rate of the rows (1-240)")
    s.add_argument(
        "--n-frames", type=int_in(1, 10**8), help="number of rows (default: duration x fps)"
    )
    s.add_argument("--sr", type=int_in(8000, 96000), default=16000,
                   help="analysis sample rate, 8000-96000 (16000)")  # fmt: skip
    s.add_argument("-o", "--output", required=True, help="output .npy, shape (n_frames, dims)")
    s.set_defaults(func=cmd_features)
