"""Exports for animators: blendshape CSV, glTF, raw data, 2D mouth cues and visemes.

:data:`FORMATS` lists every format by name; :func:`export` writes one:

=================  ==============  ================================================
format             suffixes        content (needs)
=================  ==============  ================================================
``arkit-csv``      ``.csv``        Live Link Face ARKit CSV (anim)
``weights-csv``    ``.csv``        ``time`` + one column per blendshape, any rig (anim)
``glb``            ``.glb``        glTF 2.0 head + morph targets + animation (anim, model)
``json``           ``.json``       names, fps, weights, rotation [, landmarks] (anim)
``npz``            ``.npz``        the same as NPZ arrays (anim)
``rhubarb-tsv``    ``.tsv .txt``   Rhubarb Lip Sync mouth cues, TSV (phones)
``rhubarb-json``   ``.json``       Rhubarb Lip Sync mouth cues, JSON (phones)
``rhubarb-xml``    ``.xml``        Rhubarb Lip Sync mouth cues, XML (phones)
``visemes``        ``.csv .json``  15 Oculus visemes per frame (phones, anim)
``azure-visemes``  ``.json``       Azure Speech viseme IDs 0-21 with audio offsets (phones)
``polly-marks``    ``.marks``      Amazon Polly viseme speech marks, JSON lines (phones);
                   ``.jsonl .txt``
=================  ==============  ================================================

:func:`resolve_format` picks the format from the output's extension when none is
given (:data:`EXTENSION_FORMATS`) and refuses one that does not fit the extension.
``retarget=`` renames/combines the weights for another rig first
(:mod:`talkinghead.export.retarget`; ``glb`` then writes an animation-only file that
binds to the avatar's morph targets by name).

Everything here is numpy + stdlib: cheap to import.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..data import RETARGET_MAPS  # the shipped retarget maps (numpy-free to list)
from ..errors import InvalidArgumentError

__all__ = [
    "EXTENSION_FORMATS",
    "ExportFormat",
    "FORMATS",
    "RETARGET_MAPS",
    "export",
    "export_animation",
    "resolve_format",
]


@dataclass(frozen=True)
class ExportFormat:
    """One export format.

    Attributes
    ----------
    name : str
    suffix : str
        Usual file extension.
    needs : tuple of str
        Inputs :func:`export` requires (``"anim"``, ``"phones"``; ``"model"`` falls
        back to the shipped head).
    description : str
    writer : callable
        ``writer(path, *, anim, phones, model, audio_duration, **options) -> Path``.
    other_suffixes : tuple of str
        More extensions the format is written with.
    """

    name: str
    suffix: str
    needs: tuple[str, ...]
    description: str
    writer: Callable[..., Path]
    other_suffixes: tuple[str, ...] = ()

    @property
    def suffixes(self) -> tuple[str, ...]:
        """Every extension this format may be written with (the usual one first)."""
        return (self.suffix, *self.other_suffixes)


def _duration(anim, phones, audio_duration) -> float:
    if audio_duration is not None:
        return float(audio_duration)
    if anim is not None:
        return float(anim.duration)
    ends = [float(p.end if hasattr(p, "end") else p[2]) for p in phones]
    if not ends:
        raise InvalidArgumentError(
            "audio_duration=None must be given when there is no anim and no phones"
        )
    return max(ends)


def _w_arkit(path, *, anim, **opts):
    from .arkit_csv import write_arkit_csv

    return write_arkit_csv(path, anim, **opts)


def _w_glb(path, *, anim, model, animation_only=False, **opts):
    from .gltf import write_glb

    if model is None and not animation_only:
        from ..face.head3d import load_head_model

        model = load_head_model()
    return write_glb(path, model, anim, animation_only=animation_only, **opts)


def _w_weights_csv(path, *, anim, **opts):
    from .data import write_weights_csv

    return write_weights_csv(path, anim, **opts)


def _w_json(path, *, anim, **opts):
    from .data import write_animation_json

    return write_animation_json(path, anim, **opts)


def _w_npz(path, *, anim, **opts):
    from .data import write_animation_npz

    return write_animation_npz(path, anim, **opts)


def _rhubarb(fmt):
    def writer(path, *, anim, phones, audio_duration, sound_file="", **opts):
        from .cues import phones_to_rhubarb, write_rhubarb

        duration = _duration(anim, phones, audio_duration)
        cues = phones_to_rhubarb(phones, duration=duration, **opts)
        return write_rhubarb(path, cues, fmt, sound_file=sound_file, duration=duration)

    return writer


def _w_visemes(path, *, anim, phones, fmt=None, prefix="", **opts):
    from .cues import phones_to_oculus_visemes, write_visemes

    w = phones_to_oculus_visemes(phones, n_frames=anim.n_frames, fps=anim.fps, **opts)
    return write_visemes(path, w, fps=anim.fps, fmt=fmt, prefix=prefix)


def _tts(kind):
    def writer(path, *, anim, phones, audio_duration, **opts):
        from . import tts_visemes

        duration = _duration(anim, phones, audio_duration)
        w = tts_visemes.write_azure_visemes if kind == "azure" else tts_visemes.write_polly_marks
        return w(path, phones, duration=duration, **opts)

    return writer


#: name -> :class:`ExportFormat`
FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("arkit-csv", ".csv", ("anim",), "Live Link Face ARKit blendshape CSV",
                     _w_arkit),
        ExportFormat("weights-csv", ".csv", ("anim",),
                     "time + one column per blendshape (any rig's names)", _w_weights_csv),
        ExportFormat("glb", ".glb", ("anim", "model"),
                     "glTF 2.0 binary: head mesh, 52 morph targets, animation", _w_glb),
        ExportFormat("json", ".json", ("anim",), "animation arrays as JSON", _w_json),
        ExportFormat("npz", ".npz", ("anim",), "animation arrays as NPZ", _w_npz),
        ExportFormat("rhubarb-tsv", ".tsv", ("phones",), "Rhubarb Lip Sync mouth cues (TSV)",
                     _rhubarb("tsv"), (".txt",)),
        ExportFormat("rhubarb-json", ".json", ("phones",), "Rhubarb Lip Sync mouth cues (JSON)",
                     _rhubarb("json")),
        ExportFormat("rhubarb-xml", ".xml", ("phones",), "Rhubarb Lip Sync mouth cues (XML)",
                     _rhubarb("xml")),
        ExportFormat("visemes", ".csv", ("phones", "anim"),
                     "15 Oculus visemes per frame (CSV, or JSON for a .json path)", _w_visemes,
                     (".json",)),
        ExportFormat("azure-visemes", ".json", ("phones",),
                     "Azure Speech viseme IDs (0-21) with audio offsets", _tts("azure")),
        ExportFormat("polly-marks", ".marks", ("phones",),
                     "Amazon Polly viseme speech marks (JSON lines)", _tts("polly"),
                     (".jsonl", ".json", ".txt")),
    )
}  # fmt: skip

#: Output extension -> the format written when none is given.
EXTENSION_FORMATS: dict[str, str] = {
    ".csv": "arkit-csv", ".glb": "glb", ".json": "json", ".npz": "npz",
    ".tsv": "rhubarb-tsv", ".xml": "rhubarb-xml", ".marks": "polly-marks",
}  # fmt: skip

#: Retarget maps whose target names are the 52 ARKit ones (the Live Link Face CSV and
#: the shipped head's glb can take them).
_ARKIT_NAMED = ("arkit",)


def resolve_format(
    path: str | os.PathLike,
    fmt: str | None = None,
    *,
    retarget=None,
    extra: dict[str, str | None] | None = None,
    name: str = "format",
) -> str | None:
    """The export format for output ``path``: ``fmt``, checked against the extension, or
    the one the extension implies.

    Parameters
    ----------
    path : path-like
        The output file.
    fmt : str, optional
        An explicit format (a key of :data:`FORMATS`).
    retarget : str, path-like or dict, optional
        A retarget map: a ``.csv`` then means ``weights-csv`` unless the map keeps the
        ARKit names (``"arkit"``).
    extra : dict of str -> str or None, optional
        More extensions the caller handles itself (e.g. ``{".mp4": None}`` for video);
        returned as given when ``fmt`` is None.
    name : str
        The option name used in messages (``"--format"`` on the command line).

    Returns
    -------
    str or None
        The format name (or ``extra``'s value for an extension in ``extra``).

    Raises
    ------
    InvalidArgumentError
        ``fmt`` is unknown or does not fit the extension, or the extension implies no
        format.
    """
    ext = Path(path).suffix.lower()
    extra = extra or {}
    if fmt is not None:
        f = FORMATS.get(str(fmt))
        if f is None:
            raise InvalidArgumentError(f"{name}={fmt!r} must be one of {sorted(FORMATS)}")
        if ext not in f.suffixes:
            fits = sorted(k for k, v in FORMATS.items() if ext in v.suffixes)
            hint = f" ({ext} is written by {', '.join(fits)})" if fits else ""
            raise InvalidArgumentError(
                f"{name}={fmt!r} must match the output's extension: output={str(path)!r} "
                f"must end in {' or '.join(f.suffixes)} for {fmt}{hint}"
            )
        return f.name
    if ext in extra:
        return extra[ext]
    if ext not in EXTENSION_FORMATS:
        known = sorted({*EXTENSION_FORMATS, *extra})
        raise InvalidArgumentError(
            f"output={str(path)!r} must end in one of {known} (or give {name} explicitly)"
        )
    out = EXTENSION_FORMATS[ext]
    if out == "arkit-csv" and retarget is not None and str(retarget) not in _ARKIT_NAMED:
        out = "weights-csv"
    return out


def export(
    fmt: str,
    path: str | os.PathLike,
    *,
    anim=None,
    phones=None,
    model=None,
    audio_duration: float | None = None,
    retarget=None,
    **options,
) -> Path:
    """Write one export format.

    Parameters
    ----------
    fmt : str
        A key of :data:`FORMATS`.
    path : path-like
        Output file (written atomically).
    anim : BlendshapeAnimation, optional
        Needed by every format except the Rhubarb ones.
    phones : list of Phone, optional
        Needed by ``rhubarb-*`` and ``visemes``.
    model : HeadModel, optional
        For ``glb`` (default: the shipped head, :func:`~talkinghead.face.head3d.load_head_model`).
    audio_duration : float, optional
        Seconds; the length the Rhubarb cues cover (default: ``anim.duration``, else the
        end of the last phone).
    retarget : str, path-like, dict or RetargetMap, optional
        Map the weights to another rig's names first (a shipped map: ``arkit``, ``rpm``,
        ``vrm``, ``cc4``, ``metahuman``, or a JSON file; see
        :mod:`talkinghead.export.retarget`). ``glb`` then writes an animation-only file
        (its morph targets carry the map's names and bind to your avatar's), unless the
        map keeps the ARKit names; ``arkit-csv`` needs ARKit names (use ``weights-csv``);
        ``visemes`` with ``"rpm"`` writes the Ready Player Me ``viseme_*`` names.
    **options
        Passed to the format's writer (e.g. ``sound_file=`` for Rhubarb, ``landmarks=``
        for json/npz, ``timecode_rate=`` for arkit-csv, ``prefix=`` for visemes,
        ``animation_only=``, ``sparse=``, ``audio=`` for glb).

    Raises
    ------
    InvalidArgumentError
        Unknown format, or a required input is missing.
    """
    f = FORMATS.get(str(fmt))
    if f is None:
        raise InvalidArgumentError(f"fmt={fmt!r} must be one of {sorted(FORMATS)}")
    given = {"anim": anim, "phones": phones}
    for need in f.needs:
        if need in given and given[need] is None:
            raise InvalidArgumentError(f"{need}=None must be given for format {f.name!r}")
    if retarget is not None and f.name == "visemes":
        if str(retarget) != "rpm":
            raise InvalidArgumentError(
                f"retarget={retarget!r} must be 'rpm' (or None) for the visemes format"
            )
        options.setdefault("prefix", "viseme_")
    elif retarget is not None and anim is not None:
        from .retarget import retarget_animation

        anim = retarget_animation(anim, retarget)
        if f.name == "glb" and str(retarget) not in _ARKIT_NAMED:
            options.setdefault("animation_only", True)
    kwargs = {"anim": anim}
    if "phones" in f.needs:
        kwargs["phones"] = phones
    if f.name == "glb":
        kwargs["model"] = model
    if f.name.startswith("rhubarb") or f.name in ("azure-visemes", "polly-marks"):
        kwargs["audio_duration"] = audio_duration
    return f.writer(Path(path), **kwargs, **options)


def export_animation(
    animation,
    path: str | os.PathLike,
    fmt: str | None = None,
    *,
    y=None,
    sr: int | None = None,
    audio: str | os.PathLike | None = None,
    **options,
) -> Path:
    """Write a :class:`talkinghead.inference.Animation` (what :func:`talkinghead.animate`
    returns) in an export format: :meth:`Animation.export <talkinghead.Animation.export>`
    and ``talkinghead animate/export`` both come here.

    Parameters
    ----------
    animation : Animation
    path : path-like
    fmt : str, optional
        A key of :data:`FORMATS` (default: from the extension, :func:`resolve_format`).
    y, sr : ndarray, int, optional
        The speech, for head motion that follows its energy (only for an Animation that
        has no head rotation of its own).
    audio : path-like, optional
        The speech file: Rhubarb ``soundFile`` (absolute, as Rhubarb writes it) and the
        glb's audio sidecar.
    **options
        ``retarget=`` and the writers' options (see :func:`export`).
    """
    fmt = resolve_format(path, fmt, retarget=options.get("retarget"))
    f = FORMATS[fmt]
    bs = None
    if "anim" in f.needs:
        from ..models.blendshape_bridge import animation_to_blendshapes

        bs = animation_to_blendshapes(animation, y=y, sr=sr)
    if fmt.startswith("rhubarb"):
        options.setdefault("sound_file", str(Path(audio).resolve()) if audio else "")
    if fmt == "glb" and audio:
        options.setdefault("audio", audio)
    if fmt in ("json", "npz"):
        options.setdefault("landmarks", animation.landmarks)
    phones = None
    if "phones" in f.needs:  # phone recognition only when the format needs it
        from ..audio.phones import Phone

        phones = [Phone(label, start, end) for label, start, end in animation.phones]
    return export(fmt, path, anim=bs, phones=phones, audio_duration=animation.duration, **options)
