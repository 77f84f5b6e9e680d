"""Raw animation data as JSON or NPZ: names, fps and the per-frame arrays.

JSON layout (one object; arrays are nested lists, frame-major)::

    {"format": "talkinghead.animation", "version": 1, "fps": 25.0, "n_frames": T,
     "names": [...K names...], "weights": [[...K...], ...T rows...],
     "rotation": [[rx, ry, rz], ...], "translation": [[x, y, z], ...] (optional),
     "landmarks": [[[x, y], ...N points...], ...T frames...] (optional)}

Float32 values are written with the shortest text that reads back to the same float32,
so both formats round-trip exactly. NPZ holds the same keys as arrays.

:func:`write_weights_csv` writes a plain table for any rig's names (e.g. after
retargeting): header ``time,<K names>``, one row per frame. Pure numpy.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._util.atomic import save_npz_atomic, write_text_atomic
from ..errors import InvalidArgumentError, MediaError

__all__ = [
    "AnimationData",
    "write_animation_json",
    "read_animation_json",
    "write_animation_npz",
    "read_animation_npz",
    "write_weights_csv",
]

FORMAT_TAG = "talkinghead.animation"
FORMAT_VERSION = 1


@dataclass
class AnimationData:
    """An animation read back from JSON/NPZ.

    Attributes
    ----------
    anim : BlendshapeAnimation
        fps, names, weights (T, K), rotation (T, 3), translation (T, 3) or None.
    landmarks : ndarray, shape (T, N, D), float32, or None
        Per-frame landmarks (D = 2 or 3) when the file has them.
    """

    anim: object
    landmarks: np.ndarray | None = None


def _check_landmarks(landmarks, n_frames: int) -> np.ndarray | None:
    if landmarks is None:
        return None
    lm = np.asarray(landmarks, dtype=np.float32)
    if lm.ndim != 3 or lm.shape[0] != n_frames or lm.shape[2] not in (2, 3):
        raise InvalidArgumentError(
            f"landmarks.shape={lm.shape} must be ({n_frames}, N, 2 or 3) (one frame per row "
            "of anim.weights)"
        )
    return lm


def _json_array(a: np.ndarray) -> str:
    """Nested JSON list text of a float32 array, shortest float32 round-trip digits."""
    a = np.asarray(a, dtype=np.float32)
    if not np.all(np.isfinite(a)):
        raise InvalidArgumentError("arrays must be finite to be written as JSON")
    return _json_nested(a.astype(str))


def _json_nested(s: np.ndarray) -> str:
    if s.ndim == 1:
        return "[" + ",".join(s) + "]"
    return "[" + ",".join(_json_nested(x) for x in s) + "]"


def write_animation_json(path: str | os.PathLike, anim, *, landmarks=None) -> Path:
    """Write ``anim`` (and optional per-frame ``landmarks``, shape (T, N, 2|3)) as JSON."""
    lm = _check_landmarks(landmarks, anim.n_frames)
    head = {
        "format": FORMAT_TAG,
        "version": FORMAT_VERSION,
        "fps": float(anim.fps),
        "n_frames": int(anim.n_frames),
        "names": list(anim.names),
    }
    parts = [json.dumps(head)[:-1]]
    parts.append(', "weights": ' + _json_array(anim.weights.reshape(anim.n_frames, -1)))
    parts.append(', "rotation": ' + _json_array(anim.rotation))
    if anim.translation is not None:
        parts.append(', "translation": ' + _json_array(anim.translation))
    if lm is not None:
        parts.append(', "landmarks": ' + _json_array(lm))
    parts.append("}\n")
    return write_text_atomic(path, "".join(parts))


def _build(p: Path, fps, names, weights, rotation, translation, landmarks) -> AnimationData:
    from ..face.head3d import BlendshapeAnimation

    try:
        names = tuple(str(n) for n in names)
        weights = np.asarray(weights, dtype=np.float32).reshape(-1, len(names))
        anim = BlendshapeAnimation(
            fps=float(fps),
            names=names,
            weights=weights,
            rotation=None if rotation is None else np.asarray(rotation, np.float32),
            translation=None if translation is None else np.asarray(translation, np.float32),
        )
        lm = _check_landmarks(landmarks, anim.n_frames)
    except (InvalidArgumentError, ValueError, TypeError) as exc:
        raise MediaError(f"{p} holds an inconsistent animation: {exc}") from exc
    return AnimationData(anim=anim, landmarks=lm)


def read_animation_json(path: str | os.PathLike) -> AnimationData:
    """Read a file written by :func:`write_animation_json`."""
    p = Path(path)
    if not p.is_file():
        raise MediaError(f"animation JSON file {p} does not exist")
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MediaError(f"{p} is not valid JSON: {exc}") from None
    if not isinstance(d, dict) or d.get("format") != FORMAT_TAG:
        raise MediaError(f"{p} is not a talkinghead animation JSON (format={FORMAT_TAG!r})")
    try:
        return _build(
            p,
            d["fps"],
            d["names"],
            d["weights"],
            d.get("rotation"),
            d.get("translation"),
            d.get("landmarks"),
        )
    except KeyError as exc:
        raise MediaError(f"{p} lacks the key {exc.args[0]!r}") from None


def write_animation_npz(path: str | os.PathLike, anim, *, landmarks=None) -> Path:
    """Write ``anim`` (and optional ``landmarks``, shape (T, N, 2|3)) as compressed NPZ."""
    lm = _check_landmarks(landmarks, anim.n_frames)
    arrays = {
        "format": np.array(FORMAT_TAG),
        "version": np.int32(FORMAT_VERSION),
        "fps": np.float64(anim.fps),
        "names": np.array(anim.names),
        "weights": np.asarray(anim.weights, np.float32),
        "rotation": np.asarray(anim.rotation, np.float32),
    }
    if anim.translation is not None:
        arrays["translation"] = np.asarray(anim.translation, np.float32)
    if lm is not None:
        arrays["landmarks"] = lm
    return save_npz_atomic(path, **arrays)


def read_animation_npz(path: str | os.PathLike) -> AnimationData:
    """Read a file written by :func:`write_animation_npz` (or ``BlendshapeAnimation.save``)."""
    p = Path(path)
    if not p.is_file():
        raise MediaError(f"animation NPZ file {p} does not exist")
    try:
        with np.load(p, allow_pickle=False) as z:
            files = set(z.files)
            return _build(
                p,
                z["fps"],
                z["names"].tolist(),
                z["weights"],
                z["rotation"] if "rotation" in files else None,
                z["translation"] if "translation" in files else None,
                z["landmarks"] if "landmarks" in files else None,
            )
    except KeyError as exc:
        raise MediaError(f"{p} lacks the array {exc.args[0]!r}") from None
    except (OSError, ValueError) as exc:
        raise MediaError(f"{p} is not a readable .npz: {exc}") from None


def write_weights_csv(path: str | os.PathLike, anim, *, decimals: int = 6) -> Path:
    """Write ``anim`` as CSV: header ``time,<names>``, one row per frame (``time`` =
    ``k / fps`` seconds). For rigs whose names are not ARKit's (after retargeting)."""
    w = np.asarray(anim.weights, np.float64).reshape(anim.n_frames, -1)
    if not np.all(np.isfinite(w)):
        raise InvalidArgumentError("weights must be finite to be written as CSV")
    bad = [n for n in anim.names if "," in n or "\n" in n]
    if bad:
        raise InvalidArgumentError(f"names {bad[:3]} must not contain commas or newlines")
    times = np.char.mod("%.6f", np.arange(anim.n_frames) / float(anim.fps))
    vals = np.char.mod(f"%.{decimals}f", np.round(w, decimals) + 0.0)
    lines = [",".join(["time", *anim.names])]
    lines += [t + "," + ",".join(r) for t, r in zip(times, vals, strict=True)]
    return write_text_atomic(path, "\n".join(lines) + "\n")
