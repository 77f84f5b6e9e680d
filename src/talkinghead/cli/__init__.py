"""The ``talkinghead`` command line: a thin layer over the library.

Every command reads real media, writes its output atomically and shows a
progress bar on long work; errors print one line (``talkinghead: error: ...``)
and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .._util.outputs import check_io
from ..errors import InvalidArgumentError, TalkingHeadError
from .args import CLIParser, float_in, int_in, read_transcript
from .args import positive_int as _positive_int

VIDEO_EXTS = {".mp4", ".mpg", ".mpeg", ".avi", ".flv", ".mov", ".mkv", ".webm", ".m4v"}

#: limits of the numeric options (checked by argparse, before any work)
FPS = float_in(1, 240)
VIDEO_SIZE = int_in(16, 4096)
TRACK_SIZE = int_in(32, 8192)


def _suffix(path: str, allowed: tuple[str, ...], name: str = "output") -> str:
    ext = Path(path).suffix.lower()
    if ext not in allowed:
        raise InvalidArgumentError(f"{name}={path!r} must end in one of {list(allowed)}")
    return ext


# --------------------------------------------------------------------------- commands


def cmd_track(args) -> int:
    from ..face.tracking import track_video

    _suffix(args.output, (".npz",))
    check_io(inputs={"video": args.video}, files={"output": args.output})
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

    _suffix(args.output, (".npy",))
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


def _to_blendshapes(anim, y=None, sr=None):
    """BlendshapeAnimation (52 ARKit weights + head rotation) of an :class:`Animation`."""
    from ..models.blendshape_bridge import animation_to_blendshapes

    return animation_to_blendshapes(anim, y=y, sr=sr)


def _export(fmt: str, path: str, anim, *, y=None, sr=None, args=None, audio=None) -> None:
    """Write ``anim`` (an :class:`Animation`) in one of the export formats.

    ``args`` carries the export options (``--retarget``, ``--extendedShapes``,
    ``--animation-only``); ``audio`` is the speech file (Rhubarb ``soundFile``, written
    absolute as Rhubarb does; the glb's audio sidecar)."""
    from ..export import export_animation

    export_animation(anim, path, fmt, y=y, sr=sr, **_export_options(fmt, args, audio))


def _export_options(fmt: str, args, audio) -> dict:
    """Writer options of ``fmt`` from the command-line ``args``."""
    opts: dict = {}
    if getattr(args, "retarget", None):
        opts["retarget"] = args.retarget
    if fmt.startswith("rhubarb"):
        opts["sound_file"] = str(Path(audio).resolve()) if audio else ""
        if getattr(args, "extended_shapes", None) is not None:
            opts["extended_shapes"] = args.extended_shapes
    if fmt == "glb":
        if audio:
            opts["audio"] = audio
        if getattr(args, "animation_only", False):
            opts["animation_only"] = True
    return opts


_RHUBARB_F = {"tsv": "rhubarb-tsv", "json": "rhubarb-json", "xml": "rhubarb-xml"}


def _output_format(args, *, own: dict[str, str | None] | None = None) -> str | None:
    """The export format of ``args.output``: ``--format`` (or Rhubarb's ``-f``) checked
    against the extension, else the extension's (:func:`talkinghead.export.resolve_format`);
    ``own`` maps the extensions the command writes itself (e.g. .mp4) to None."""
    from ..export import resolve_format

    fmt = args.format
    rf = getattr(args, "export_format", None)
    if rf:
        if fmt and fmt != _RHUBARB_F[rf]:
            raise InvalidArgumentError(
                f"-f={rf!r} (Rhubarb's --exportFormat, = {_RHUBARB_F[rf]}) must agree with "
                f"--format={fmt!r}"
            )
        fmt = _RHUBARB_F[rf]
    return resolve_format(
        args.output, fmt, retarget=getattr(args, "retarget", None), extra=own, name="--format"
    )


def _animate_io(args) -> None:
    """``animate``/``say``: no output over an input, no two outputs in one file."""
    get = lambda k: getattr(args, k, None)  # noqa: E731
    ins = {k: get(k) for k in ("audio", "transcript_file", "photo", "person", "retarget")}
    check_io(inputs={"--transcript-file" if k == "transcript_file" else k: v
                     for k, v in ins.items()},
             files={"output": args.output, "--params": get("params"),
                    "--speech": get("speech")})  # fmt: skip


def cmd_animate(args) -> int:
    _animate_io(args)
    if getattr(args, "person", None):
        from .personalize import cmd_animate_person

        return cmd_animate_person(args)
    if getattr(args, "photo", None):
        from .photo import cmd_animate_photo

        return cmd_animate_photo(args)
    from ..inference import animate

    fmt = _output_format(args, own={".mp4": None, ".npz": None})  # before any work
    ext = Path(args.output).suffix.lower()
    transcript = read_transcript(args)
    anim = animate(args.audio, fps=args.fps, transcript=transcript, model=args.model)
    from ..audio.io import load_audio

    if fmt:
        y, sr = load_audio(args.audio, sr=16000)
        _export(fmt, args.output, anim, y=y, sr=sr, args=args, audio=str(args.audio))
    elif ext == ".npz":
        anim.save(args.output)
    else:
        y, sr = load_audio(args.audio, sr=44100)
        if args.face == "3d":
            from ..render.head3d import render_head_video

            render_head_video(args.output, _to_blendshapes(anim, y, sr), audio=y, sr=sr,
                              size=args.size or 512)  # fmt: skip
        else:
            from ..render.sketch import render_landmarks_video

            render_landmarks_video(
                args.output, anim.landmarks, fps=anim.fps, audio=y, sr=sr,
                size=args.size or 256, progress=True,
            )  # fmt: skip
    if args.params:
        anim.save(args.params)
    print(
        f"animated {anim.duration:.2f} s of speech: {anim.n_frames} frames at {anim.fps:g} fps "
        f"({anim.model} model) -> {args.output}"
    )
    return 0


def cmd_say(args) -> int:
    """Text -> speech (espeak-ng) -> face: like ``animate`` on the synthesised speech."""
    import tempfile

    from ..audio.tts import synthesize

    text = args.text
    _animate_io(args)
    with tempfile.TemporaryDirectory() as d:
        wav = synthesize(text, Path(d) / "speech.wav", voice=args.voice, rate=args.rate)
        if args.speech:
            import shutil

            from .._util.atomic import atomic_path

            with atomic_path(args.speech, suffix=".wav") as tmp:
                shutil.copyfile(wav, tmp)
        args.audio, args.transcript, args.transcript_file = str(wav), text, None
        return cmd_animate(args)


def _load_params(load, path: str):
    """``load(path)``; a damaged file (keys missing, bad values) is an InvalidArgumentError."""
    try:
        return load(path)
    except TalkingHeadError:
        raise
    except Exception as e:
        raise InvalidArgumentError(
            f"params={path!r} must be a complete .npz from 'talkinghead animate' or 'track' "
            f"({type(e).__name__}: {e})"
        ) from None


def cmd_export(args) -> int:
    """Export face parameters (.npz from animate, or a face track from track) to a format."""
    from ..export import FORMATS, export
    from ..inference import Animation

    fmt = _output_format(args)  # before any work
    check_io(inputs={"params": args.params, "--audio": args.audio,
                     "--retarget": getattr(args, "retarget", None)},
             files={"output": args.output})  # fmt: skip
    is_json = Path(args.params).suffix.lower() == ".json"
    kind = "blendshapes" if is_json else _params_kind(args.params)
    y = sr = None
    if args.audio:
        from ..audio.io import load_audio

        y, sr = load_audio(args.audio, sr=16000)
    if kind == "animation":
        anim = _load_params(Animation.load, args.params)
        if y is not None and not getattr(anim.phones, "computed", True):
            from ..inference import recognized_phones

            anim.phones = recognized_phones(y, sr)  # not saved: recognised if the format needs
        _export(fmt, args.output, anim, y=y, sr=sr, args=args, audio=args.audio)
        print(f"exported {args.params} as {fmt} -> {args.output}")
        return 0
    if "phones" in FORMATS[fmt].needs:
        what = "a face track" if kind == "track" else "blendshapes only"
        raise InvalidArgumentError(
            f"--format={fmt!r} needs phones: export the .npz of 'talkinghead animate -o "
            f"X.npz' (or its --params) instead of {args.params!r} ({what})"
        )
    landmarks = None
    if kind == "track":
        from ..face.fit3d import fit_blendshapes
        from ..face.tracking import FaceTrack

        track = _load_params(FaceTrack.load, args.params)
        bs = fit_blendshapes(track.mesh, fps=track.fps, valid=track.valid).animation
    else:  # written by 'animate --format npz/json' or 'export --format npz/json'
        from ..export.data import read_animation_json, read_animation_npz

        data = _load_params(read_animation_json if is_json else read_animation_npz, args.params)
        bs, landmarks = data.anim, data.landmarks
    opts = _export_options(fmt, args, args.audio)
    if fmt in ("json", "npz") and landmarks is not None:
        opts["landmarks"] = landmarks
    export(fmt, args.output, anim=bs, **opts)
    print(f"exported {args.params} as {fmt} -> {args.output}")
    return 0


def _params_kind(path: str) -> str:
    """The kind of an .npz: "track", "animation" (animate's .npz / --params) or "blendshapes"
    (the npz export format); raises InvalidArgumentError for anything else."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as z:
            kind = (
                "track" if "mesh" in z
                else "animation" if "articulation" in z
                else "blendshapes" if "weights" in z and "names" in z
                else None
            )  # fmt: skip
    except Exception as e:  # not an npz (e.g. zipfile.BadZipFile), unreadable
        raise InvalidArgumentError(
            f"params={path!r} must be an .npz from 'talkinghead animate' or "
            f"'talkinghead track' ({type(e).__name__})"
        ) from None
    if kind is None:
        raise InvalidArgumentError(
            f"params={path!r} must be an .npz from 'talkinghead animate', 'track' or "
            "'export --format npz'"
        )
    return kind


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

    _suffix(args.output, (".mp4",))
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


# --------------------------------------------------------------------------- parser


def _add_face_output_arguments(s: argparse.ArgumentParser) -> None:
    """Options shared by ``animate`` and ``say``: animator, frame rate and what to write."""
    s.add_argument("--fps", type=FPS, help="frame rate, 1-240 (default: a video's own, else 25)")
    s.add_argument(
        "--model",
        choices=["default", "whisper", "phonetic"],
        default="default",
        help="default: the learned model (distilled speech features -> mouth; fast); "
        "whisper: the same read-out on Whisper tiny.en encoder features (most accurate, "
        "slower); phonetic: the rule-based phones -> visemes -> coarticulation animator",
    )
    s.add_argument(
        "--face",
        choices=["sketch", "3d"],
        default="sketch",
        help="what the MP4 shows: the 68-point sketch (default) or the shaded 3D head",
    )
    s.add_argument(
        "--format",
        choices=_export_formats(),
        help="write -o in an animator's format instead: ARKit CSV (Live Link Face), glTF .glb, "
        "JSON/NPZ arrays, Rhubarb mouth cues, Oculus/Azure/Polly visemes (default: from the "
        "extension of -o: .csv arkit-csv, .glb, .json, .tsv/.xml Rhubarb, .marks Polly; "
        ".mp4 video, .npz parameters)",
    )
    _add_export_options(s)
    s.add_argument(
        "--size",
        type=VIDEO_SIZE,
        help="video size, 16-4096 px (256 sketch, 512 3d; --photo: the photo's own, at most "
        "2048, and SIZE downscales)",
    )
    s.add_argument("--params", help="also save the parameters to this .npz")
    from .photo import add_photo_arguments

    add_photo_arguments(s)  # --photo FACE.jpg, --face-index, --no-blinks, --no-head-motion


def _add_export_options(s: argparse.ArgumentParser) -> None:
    """Options of the export formats (shared by ``animate``, ``say`` and ``export``)."""
    from ..export import RETARGET_MAPS

    s.add_argument(
        "--retarget",
        metavar="MAP",
        help="rename/combine the 52 ARKit weights for another rig first: "
        f"{', '.join(RETARGET_MAPS)} or a mapping .json (glb then holds only the "
        "animation, bound to your avatar's morph targets by name; .csv becomes time + one "
        "column per target)",
    )
    s.add_argument(
        "--animation-only",
        action="store_true",
        help="glb: no head mesh, only the animation and morph-target names (for your avatar)",
    )
    s.add_argument(
        "-f",
        "--exportFormat",
        dest="export_format",
        choices=sorted(_RHUBARB_F),
        help="Rhubarb Lip Sync's flag: -f tsv/json/xml = --format rhubarb-tsv/json/xml",
    )
    s.add_argument(
        "--extendedShapes",
        dest="extended_shapes",
        metavar="GHX",
        help="Rhubarb's flag: which extended mouth shapes G, H, X to use (default GHX; '' none)",
    )


def build_parser() -> argparse.ArgumentParser:
    p = CLIParser(
        prog="talkinghead",
        description="Speech in, a talking face out: track faces, compute the papers' "
        "features, animate a face from speech and render it.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = sub.add_parser(
        "track",
        help="track a face in a video: 468-point mesh, 68 landmarks, head pose",
        description="Track the face in every frame of VIDEO with mediapipe Face Mesh. Frames "
        "with no face or several faces are flagged (valid=False), never dropped.",
    )
    s.add_argument("video", help="video file (mp4, mpg, avi, flv, mov, ...)")
    s.add_argument("-o", "--output", required=True, help="output .npz (mesh, landmarks68, pose...)")
    s.add_argument("--size", type=TRACK_SIZE, help="downscale frames: longer side SIZE (32-8192)")
    s.add_argument("--max-frames", type=_positive_int, help="track only the first N frames")
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

    s = sub.add_parser(
        "animate",
        help="animate a face from speech (MP4 sketch video or NPZ parameters)",
        description="Animate a face from AUDIO with the default model (learned speech "
        "features -> mouth and jaw, plus head, brows and blinks from the speech's emphasis), "
        "its Whisper variant, or the phonetic animator (phones -> visemes -> "
        "coarticulation); phones come from recognition or from forced alignment of "
        "--transcript. Writes an MP4 (sketch, 3D head, a --photo or a --person) with the audio "
        "muxed in, the parameters as .npz, or an export --format.",
    )
    s.add_argument("audio", help="speech: audio file or video with an audio track")
    s.add_argument("-o", "--output", required=True, help="OUT.mp4 (video) or OUT.npz (parameters)")
    _add_face_output_arguments(s)
    s.add_argument("--transcript", help="what is said (improves the phones by forced alignment)")
    s.add_argument(
        "--transcript-file",
        "-d",
        "--dialogFile",
        dest="transcript_file",
        help="read the transcript from this text file (-d/--dialogFile: Rhubarb's flag)",
    )
    from .personalize import add_person_arguments

    add_person_arguments(s)  # --person PERSON_DIR
    s.set_defaults(func=cmd_animate)

    s = sub.add_parser(
        "say",
        help="say TEXT with a synthetic voice (espeak-ng) and animate the face",
        description="Text in, face out: espeak-ng speaks TEXT, the face follows the speech "
        "(phones from forced alignment of TEXT). Same outputs as 'animate'.",
    )
    s.add_argument("text", help="what to say")
    s.add_argument("-o", "--output", required=True, help="OUT.mp4 (video) or OUT.npz, or --format")
    s.add_argument("--voice", default="en-us", help="espeak-ng voice (en-us; e.g. en-gb, en-us+f3)")
    s.add_argument("--rate", type=int_in(80, 450), default=160, help="words per minute (160)")
    s.add_argument("--speech", help="also keep the synthesised speech as this .wav")
    _add_face_output_arguments(s)
    s.set_defaults(func=cmd_say, person=None)

    s = sub.add_parser(
        "export",
        help="export face parameters to ARKit CSV, glTF, JSON/NPZ, Rhubarb cues or visemes",
        description="Convert PARAMS.npz (from 'talkinghead animate -o X.npz', or a face track "
        "from 'talkinghead track', which is fitted with the 3D head first) to an export format.",
    )
    s.add_argument(
        "params",
        help=".npz from 'talkinghead animate' (-o X.npz, --params, or --format npz/json) or "
        "'talkinghead track'",
    )
    s.add_argument(
        "--format", choices=_export_formats(), help="output format (default: from -o's extension)"
    )
    _add_export_options(s)
    s.add_argument(
        "--audio",
        help="the speech: head motion follows its energy; the phones of --format "
        "rhubarb-*/visemes/azure-visemes/polly-marks when PARAMS holds none (animate computes "
        "them only when its output needs them); Rhubarb soundFile; the glb's audio sidecar",
    )
    s.add_argument("-o", "--output", required=True, help="output file")
    s.set_defaults(func=cmd_export)

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

    # the later stages of the data flow register their own sub-commands
    import importlib

    for mod in _COMMAND_MODULES:
        importlib.import_module(mod).register(sub)
    return p


_COMMAND_MODULES = (
    "talkinghead.cli.corpus",
    "talkinghead.cli.train",
    "talkinghead.cli.evaluate",
    "talkinghead.cli.serve",
    "talkinghead.cli.personalize",
    "talkinghead.cli.study",
)


def _export_formats() -> list[str]:
    from ..export import FORMATS

    return sorted(FORMATS)


def _version() -> str:
    from .. import __version__

    return __version__


def _oserror_message(e: OSError) -> str:
    """``path='...' must be ...`` for an OSError no command turned into its own error."""
    name = os.fspath(e.filename) if e.filename is not None else None
    what = f"path={name!r} must be accessible" if name else "a file operation failed"
    return f"{what}: {e.strerror or e} (errno {e.errno})"


#: Commands whose numpy work is short (start-up dominates): run with one BLAS thread.
_SHORT_JOBS = frozenset({"animate", "say", "export", "render"})


def main(argv: list[str] | None = None) -> int:
    from .._util.signals import Terminated, terminate_raises

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.quiet:
        os.environ["TALKINGHEAD_PROGRESS"] = "0"
    if args.command in _SHORT_JOBS and "numpy" not in sys.modules:
        # one BLAS thread for second-long jobs: as fast alone, and 1.6-1.8x faster on a
        # loaded machine, where OpenBLAS threads spin (bench/cold_start.py, docs/benchmarks.md)
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        with terminate_raises():  # SIGTERM unwinds: temporary files are removed
            return int(args.func(args) or 0)
    except TalkingHeadError as e:
        print(f"talkinghead: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # e.g. a full disk met outside an atomic write
        print(f"talkinghead: error: {_oserror_message(e)}", file=sys.stderr)
        return 2
    except MemoryError as e:  # an input far larger than this machine's memory
        print(f"talkinghead: error: the input must fit in memory: MemoryError {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("talkinghead: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("talkinghead: terminated", file=sys.stderr)
        return 143


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
