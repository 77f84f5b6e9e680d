"""``talkinghead export``: face parameters -> an animator's format; the export options and
the format resolution that ``animate`` and ``say`` share."""

from __future__ import annotations

import argparse
from pathlib import Path

from .._util.outputs import check_io
from ..errors import InvalidArgumentError, TalkingHeadError

__all__ = ["register", "cmd_export", "add_export_options", "output_format", "write_export"]

_RHUBARB_F = {"tsv": "rhubarb-tsv", "json": "rhubarb-json", "xml": "rhubarb-xml"}


def export_formats() -> list[str]:
    from ..export import FORMATS

    return sorted(FORMATS)


def write_export(fmt: str, path: str, anim, *, y=None, sr=None, args=None, audio=None) -> None:
    """Write ``anim`` (an :class:`Animation`) in one of the export formats.

    ``args`` carries the export options (``--retarget``, ``--extendedShapes``,
    ``--animation-only``); ``audio`` is the speech file (Rhubarb ``soundFile``, written
    absolute as Rhubarb does; the glb's audio sidecar)."""
    from ..export import export_animation

    export_animation(anim, path, fmt, y=y, sr=sr, **export_options(fmt, args, audio))


def export_options(fmt: str, args, audio) -> dict:
    """Writer options of ``fmt`` from the command-line ``args``."""
    opts: dict = {}
    if args.retarget:
        opts["retarget"] = args.retarget
    if fmt.startswith("rhubarb"):
        opts["sound_file"] = str(Path(audio).resolve()) if audio else ""
        if args.extended_shapes is not None:
            opts["extended_shapes"] = args.extended_shapes
    if fmt == "glb":
        if audio:
            opts["audio"] = audio
        if args.animation_only:
            opts["animation_only"] = True
    return opts


def output_format(args, *, own: dict[str, str | None] | None = None) -> str | None:
    """The export format of ``args.output``: ``--format`` (or Rhubarb's ``-f``) checked
    against the extension, else the extension's (:func:`talkinghead.export.resolve_format`);
    ``own`` maps the extensions the command writes itself (e.g. .mp4) to None."""
    from ..export import resolve_format

    fmt = args.format
    rf = args.export_format
    if rf:
        if fmt and fmt != _RHUBARB_F[rf]:
            raise InvalidArgumentError(
                f"-f={rf!r} (Rhubarb's --exportFormat, = {_RHUBARB_F[rf]}) must agree with "
                f"--format={fmt!r}"
            )
        fmt = _RHUBARB_F[rf]
    return resolve_format(args.output, fmt, retarget=args.retarget, extra=own, name="--format")


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

    fmt = output_format(args)  # before any work
    check_io(inputs={"params": args.params, "--audio": args.audio,
                     "--retarget": args.retarget},
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
        write_export(fmt, args.output, anim, y=y, sr=sr, args=args, audio=args.audio)
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
    opts = export_options(fmt, args, args.audio)
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


def add_export_options(s: argparse.ArgumentParser) -> None:
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


def register(sub) -> None:
    """Add ``export`` to an argparse subparsers object."""
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
        "--format", choices=export_formats(), help="output format (default: from -o's extension)"
    )
    add_export_options(s)
    s.add_argument(
        "--audio",
        help="the speech: head motion follows its energy; the phones of --format "
        "rhubarb-*/visemes/azure-visemes/polly-marks when PARAMS holds none (animate computes "
        "them only when its output needs them); Rhubarb soundFile; the glb's audio sidecar",
    )
    s.add_argument("-o", "--output", required=True, help="output file")
    s.set_defaults(func=cmd_export)
