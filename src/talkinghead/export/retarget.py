"""Retarget blendshape weights to another rig's names with a JSON mapping.

A mapping is a JSON object whose keys are *target* names. Each value is either a
source name (a plain rename) or an object ``{source_name: coefficient, ...}`` (a
linear combination; coefficients may be negative). Two keys are reserved:

``"clamp"``
    ``[lo, hi]`` clips every target weight; ``null`` or absent: no clipping.
``"description"``
    Free text, ignored.

Example (VRM 1.0 expressions)::

    {"description": "ARKit -> VRM 1.0 expression presets",
     "clamp": [0, 1],
     "aa": {"jawOpen": 1.0},
     "blink": {"eyeBlinkLeft": 0.5, "eyeBlinkRight": 0.5},
     "blinkLeft": "eyeBlinkLeft"}

Sources are the animation's blendshape names plus any ``extra`` channels given to
:func:`retarget` (e.g. Oculus viseme weights from
:func:`talkinghead.export.cues.phones_to_oculus_visemes`). Shipped maps (in
``talkinghead/data/retarget/``, load by name with :func:`load_mapping`):

``arkit``
    The 52 ARKit names unchanged (for ARKit-named avatars; the identity map).
``metahuman``
    ARKit -> the Live Link Face / Unreal ARKit curve names (``EyeBlinkLeft``,
    ``JawOpen``, ...) that a MetaHuman face reads through its ARKit mapping pose.
``cc4``
    ARKit -> Character Creator 4 facial morphs (``Brow_Drop_L``, ``Eye_L_Look_Up``,
    ``Mouth_Roll_In_Upper_L``, ...; CC4 halves driven by one ARKit shape).
``vrm``
    ARKit -> VRM 1.0 expression presets (aa, ih, ou, ee, oh, blink, blinkLeft,
    blinkRight, happy, angry, sad, relaxed, surprised, lookUp/Down/Left/Right, neutral).
``rpm``
    ARKit -> Ready Player Me avatars: the 52 ARKit names unchanged, RPM's extra morphs
    (mouthOpen, mouthSmile, eyesClosed, eyesLookUp, eyesLookDown) and the 15
    ``viseme_*`` morphs approximated from ARKit shapes. Drive either the ARKit morphs
    or the visemes on an avatar, not both.

Pure stdlib + numpy.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data import RETARGET_DIR, RETARGET_MAPS
from ..errors import InvalidArgumentError, MediaError

__all__ = [
    "RetargetMap",
    "SHIPPED_MAPS",
    "MAPS_DIR",
    "load_mapping",
    "parse_mapping",
    "retarget",
    "retarget_animation",
]

MAPS_DIR = RETARGET_DIR
#: Names of the mappings shipped in :data:`MAPS_DIR`.
SHIPPED_MAPS: tuple[str, ...] = RETARGET_MAPS

_RESERVED = ("clamp", "description")


@dataclass(frozen=True)
class RetargetMap:
    """A parsed mapping.

    Attributes
    ----------
    targets : tuple of str, length M
    terms : tuple of tuple of (str, float)
        For each target, its ``(source_name, coefficient)`` terms.
    clamp : tuple of 2 float, or None
    """

    targets: tuple[str, ...]
    terms: tuple[tuple[tuple[str, float], ...], ...]
    clamp: tuple[float, float] | None = None

    @property
    def sources(self) -> tuple[str, ...]:
        """All source names used, in first-use order."""
        seen: dict[str, None] = {}
        for t in self.terms:
            for s, _ in t:
                seen.setdefault(s, None)
        return tuple(seen)


def parse_mapping(obj: dict, *, where: str = "mapping") -> RetargetMap:
    """Validate a mapping object (see the module docstring) into a :class:`RetargetMap`."""
    if not isinstance(obj, dict):
        raise InvalidArgumentError(f"{where} must be a JSON object {{target: source, ...}}")
    clamp = obj.get("clamp")
    if clamp is not None:
        ok = isinstance(clamp, list | tuple) and len(clamp) == 2
        ok = ok and all(isinstance(v, int | float) and math.isfinite(v) for v in clamp)
        if not ok or clamp[0] > clamp[1]:
            raise InvalidArgumentError(
                f"{where}: clamp={clamp!r} must be [lo, hi] numbers with lo <= hi, or null"
            )
        clamp = (float(clamp[0]), float(clamp[1]))
    targets, terms = [], []
    for key, val in obj.items():
        if key in _RESERVED:
            continue
        if isinstance(val, str):
            t = ((val, 1.0),)
        elif isinstance(val, dict) and val:
            t = []
            for src, c in val.items():
                if isinstance(c, bool) or not isinstance(c, int | float) or not math.isfinite(c):
                    raise InvalidArgumentError(
                        f"{where}: target {key!r} source {src!r} coefficient={c!r} must be a "
                        "finite number"
                    )
                t.append((str(src), float(c)))
            t = tuple(t)
        else:
            raise InvalidArgumentError(
                f"{where}: target {key!r} = {val!r} must be a source name or a non-empty "
                "object {source: coefficient}"
            )
        targets.append(str(key))
        terms.append(t)
    if not targets:
        raise InvalidArgumentError(f"{where} must define at least one target")
    return RetargetMap(tuple(targets), tuple(terms), clamp)


def load_mapping(mapping: str | os.PathLike | dict | RetargetMap) -> RetargetMap:
    """A mapping from a shipped name (``"vrm"``, ``"rpm"``), a JSON file path, a dict,
    or an already parsed :class:`RetargetMap`."""
    if isinstance(mapping, RetargetMap):
        return mapping
    if isinstance(mapping, dict):
        return parse_mapping(mapping)
    name = str(mapping)
    p = MAPS_DIR / f"{name}.json" if name in SHIPPED_MAPS else Path(name)
    if not p.is_file():
        raise MediaError(
            f"retarget mapping {p} does not exist (give a JSON file or one of {SHIPPED_MAPS})"
        )
    try:
        obj = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MediaError(f"retarget mapping {p} is not valid JSON: {exc}") from None
    return parse_mapping(obj, where=f"mapping {p}")


def retarget(anim, mapping, *, extra: dict | None = None) -> tuple[tuple[str, ...], np.ndarray]:
    """Apply a mapping to an animation's weights.

    Parameters
    ----------
    anim : BlendshapeAnimation
        Source weights (T, K) with ``anim.names``.
    mapping : str, path-like, dict or RetargetMap
        See :func:`load_mapping`.
    extra : dict of str -> array_like, shape (T,), optional
        More source channels, e.g. ``{"viseme_aa": w[:, 10], ...}``.

    Returns
    -------
    names : tuple of str, length M
        The mapping's targets, in file order.
    weights : ndarray, shape (T, M), float32
        ``sum_s coefficient * source_s`` per target, clipped to ``clamp`` when set.

    Raises
    ------
    InvalidArgumentError
        A source name is neither in ``anim.names`` nor in ``extra``.
    """
    m = load_mapping(mapping)
    w = np.asarray(anim.weights, dtype=np.float32)
    n = w.shape[0]
    cols = {name: w[:, i] for i, name in enumerate(anim.names)}
    for k, v in (extra or {}).items():
        a = np.asarray(v, dtype=np.float32)
        if a.shape != (n,):
            raise InvalidArgumentError(f"extra[{k!r}].shape={a.shape} must be ({n},)")
        cols[str(k)] = a
    missing = [s for s in m.sources if s not in cols]
    if missing:
        raise InvalidArgumentError(
            f"mapping sources {missing} must be blendshapes of the animation or keys of extra"
        )
    src = list(m.sources)
    mat = np.zeros((len(src), len(m.targets)), dtype=np.float32)
    pos = {s: i for i, s in enumerate(src)}
    for j, terms in enumerate(m.terms):
        for s, c in terms:
            mat[pos[s], j] += c
    stack = np.stack([cols[s] for s in src], axis=1) if src else np.zeros((n, 0), np.float32)
    out = stack @ mat
    if m.clamp is not None:
        out = np.clip(out, m.clamp[0], m.clamp[1])
    return m.targets, np.ascontiguousarray(out, dtype=np.float32)


def retarget_animation(anim, mapping, *, extra: dict | None = None):
    """:func:`retarget` as a new BlendshapeAnimation (same fps, rotation, translation)
    whose ``names`` are the mapping's targets."""
    from ..face.head3d import BlendshapeAnimation

    names, w = retarget(anim, mapping, extra=extra)
    return BlendshapeAnimation(
        fps=anim.fps, weights=w, rotation=anim.rotation, translation=anim.translation,
        names=names,
    )  # fmt: skip
