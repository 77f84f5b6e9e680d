"""Exports for animators: blendshape CSV, glTF, raw data, 2D mouth cues and visemes.

:data:`FORMATS` lists every format by name; :func:`export` writes one:

=================  ==========  ====================================================
format             suffix      content (needs)
=================  ==========  ====================================================
``arkit-csv``      ``.csv``    Live Link Face ARKit CSV (anim)
``glb``            ``.glb``    glTF 2.0 head + 52 morph targets + animation (anim, model)
``json``           ``.json``   names, fps, weights, rotation [, landmarks] (anim)
``npz``            ``.npz``    the same as NPZ arrays (anim)
``rhubarb-tsv``    ``.tsv``    Rhubarb Lip Sync mouth cues, TSV (phones)
``rhubarb-json``   ``.json``   Rhubarb Lip Sync mouth cues, JSON (phones)
``rhubarb-xml``    ``.xml``    Rhubarb Lip Sync mouth cues, XML (phones)
``visemes``        ``.csv``    15 Oculus visemes per frame, CSV or JSON (phones, anim)
=================  ==========  ====================================================

Everything here is numpy + stdlib: cheap to import.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidArgumentError

__all__ = ["ExportFormat", "FORMATS", "export"]


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
    """

    name: str
    suffix: str
    needs: tuple[str, ...]
    description: str
    writer: Callable[..., Path]


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


def _w_glb(path, *, anim, model, **opts):
    from .gltf import write_glb

    if model is None:
        from ..face.head3d import load_head_model

        model = load_head_model()
    return write_glb(path, model, anim, **opts)


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


#: name -> :class:`ExportFormat`
FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("arkit-csv", ".csv", ("anim",), "Live Link Face ARKit blendshape CSV",
                     _w_arkit),
        ExportFormat("glb", ".glb", ("anim", "model"),
                     "glTF 2.0 binary: head mesh, 52 morph targets, animation", _w_glb),
        ExportFormat("json", ".json", ("anim",), "animation arrays as JSON", _w_json),
        ExportFormat("npz", ".npz", ("anim",), "animation arrays as NPZ", _w_npz),
        ExportFormat("rhubarb-tsv", ".tsv", ("phones",), "Rhubarb Lip Sync mouth cues (TSV)",
                     _rhubarb("tsv")),
        ExportFormat("rhubarb-json", ".json", ("phones",), "Rhubarb Lip Sync mouth cues (JSON)",
                     _rhubarb("json")),
        ExportFormat("rhubarb-xml", ".xml", ("phones",), "Rhubarb Lip Sync mouth cues (XML)",
                     _rhubarb("xml")),
        ExportFormat("visemes", ".csv", ("phones", "anim"),
                     "15 Oculus visemes per frame (CSV, or JSON for a .json path)", _w_visemes),
    )
}  # fmt: skip


def export(
    fmt: str,
    path: str | os.PathLike,
    *,
    anim=None,
    phones=None,
    model=None,
    audio_duration: float | None = None,
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
    **options
        Passed to the format's writer (e.g. ``sound_file=`` for Rhubarb, ``landmarks=``
        for json/npz, ``timecode_rate=`` for arkit-csv, ``prefix=`` for visemes).

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
    kwargs = {"anim": anim}
    if "phones" in f.needs:
        kwargs["phones"] = phones
    if f.name == "glb":
        kwargs["model"] = model
    if f.name.startswith("rhubarb"):
        kwargs["audio_duration"] = audio_duration
    return f.writer(Path(path), **kwargs, **options)
