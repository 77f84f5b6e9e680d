"""glTF 2.0 binary (``.glb``): the blendshape head with its morph targets and the animation.

The file holds one scene with one node (``"head"``) carrying one mesh:

* one triangle primitive with ``POSITION``, ``NORMAL`` (and ``COLOR_0`` when the model
  has vertex colours), ``uint16``/``uint32`` indices and one morph target per
  blendshape (``POSITION`` deltas); the target names are in ``mesh.extras.targetNames``
  (the convention three.js, Blender and Babylon.js read), default weights 0;
* one animation (``"speech"``) with ``LINEAR`` samplers at the frame times
  ``start + k / fps``: a ``weights`` channel on the head node (all targets per
  keyframe) and a ``rotation`` channel (unit quaternions ``x, y, z, w`` from the
  rotation vectors), plus a ``translation`` channel when the animation has one.
  Time 0 is the start of the audio, so playing the clip with the sound lines up.

Morph targets are stored as *sparse* accessors by default (only the vertices a
blendshape moves: the shipped head's targets move 14 % of its vertices on average, so
a short clip's file is ~4x smaller; ``sparse=False`` writes them dense).
``audio=`` records the speech file in ``animations[0].extras.audio`` (``uri`` relative
to the .glb, ``start`` seconds): glTF 2.0 has no ratified audio extension, so players
load the sidecar themselves.

``animation_only=True`` writes a file for *your* avatar: no head, only a stub mesh
(one 1 mm triangle) whose morph targets are all zero and carry the animation's names
(``mesh.extras.targetNames``, also in ``animations[0].extras.targetNames``), and the
same animation. glTF binds a ``weights`` channel to morph targets by index, so a player
binds the clip to an avatar by name: in three.js, split the clip's
``<node>.morphTargetInfluences`` track into one track per name
(``Avatar.morphTargetInfluences[jawOpen]``), which three.js resolves through the
avatar's ``morphTargetDictionary`` (see ``tests/export/js/bind_check.mjs``).

Units are metres, +y up, +z toward the viewer (the glTF and :mod:`talkinghead.face.head3d`
conventions). Written with numpy + json + struct only.
"""

from __future__ import annotations

import json
import math
import os
import struct
from pathlib import Path

import numpy as np

from .._util.atomic import atomic_path
from ..errors import InvalidArgumentError
from ..face.head3d import vertex_normals

__all__ = ["rotvec_to_quaternion", "build_glb", "write_glb"]

_FLOAT, _USHORT, _UINT = 5126, 5123, 5125
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963


def rotvec_to_quaternion(rotvec) -> np.ndarray:
    """Rotation vectors (..., 3) radians -> unit quaternions (..., 4) ``x, y, z, w``.

    Consecutive quaternions along the first axis are kept in the same hemisphere
    (``q[k] . q[k-1] >= 0``) so that interpolation takes the short way.
    """
    r = np.asarray(rotvec, dtype=np.float64)
    if r.shape[-1:] != (3,):
        raise InvalidArgumentError(f"rotvec.shape={r.shape} must be (..., 3)")
    theta = np.linalg.norm(r, axis=-1, keepdims=True)
    half = 0.5 * theta
    # sin(theta/2)/theta -> 1/2 as theta -> 0
    k = np.where(theta > 1e-12, np.sin(half) / np.where(theta > 1e-12, theta, 1.0), 0.5)
    q = np.concatenate([r * k, np.cos(half)], axis=-1)
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    if q.ndim == 2 and len(q) > 1:
        flip = np.cumsum(np.einsum("ij,ij->i", q[1:], q[:-1]) < 0) % 2 == 1
        q[1:][flip] *= -1.0
    return q


class _Bin:
    """Accumulates the binary buffer, buffer views and accessors."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.views: list[dict] = []
        self.accessors: list[dict] = []

    def view(self, data: bytes, target: int | None = None) -> int:
        pad = (-self.size) % 4
        if pad:
            self.chunks.append(b"\0" * pad)
            self.size += pad
        v = {"buffer": 0, "byteOffset": self.size, "byteLength": len(data)}
        if target is not None:
            v["target"] = target
        self.chunks.append(data)
        self.size += len(data)
        self.views.append(v)
        return len(self.views) - 1

    def accessor(
        self,
        arr: np.ndarray,
        kind: str,
        *,
        target: int | None = None,
        minmax: bool = False,
        ctype: int = _FLOAT,
    ) -> int:
        arr = np.ascontiguousarray(arr)
        acc = {
            "bufferView": self.view(arr.tobytes(), target),
            "componentType": ctype,
            "count": int(arr.shape[0]),
            "type": kind,
        }
        if minmax:
            flat = arr.reshape(arr.shape[0], -1)
            acc["min"] = [_num(x) for x in flat.min(axis=0)]
            acc["max"] = [_num(x) for x in flat.max(axis=0)]
        self.accessors.append(acc)
        return len(self.accessors) - 1

    def data(self) -> bytes:
        return b"".join(self.chunks)


def _num(x) -> float | int:
    x = x.item()
    return x if isinstance(x, int) else float(x)


def _stub_model(names):
    """A one-triangle mesh with all-zero morph targets named ``names``."""
    from types import SimpleNamespace

    v = np.array([[0.0, 0.0, 0.0], [0.001, 0.0, 0.0], [0.0, 0.001, 0.0]], np.float32)
    return SimpleNamespace(
        names=tuple(names), neutral=v, faces=np.array([[0, 1, 2]]),
        deltas=np.zeros((len(names), 3, 3), np.float32), colors=None,
    )  # fmt: skip


def _morph_accessor(b: _Bin, d: np.ndarray, sparse: bool) -> int:
    """POSITION deltas (V, 3) as a dense accessor, or a sparse one over an all-zero base
    (no bufferView) holding only the vertices that move."""
    if not sparse:
        return b.accessor(d, "VEC3", target=_ARRAY_BUFFER, minmax=True)
    moved = np.flatnonzero(np.any(d != 0, axis=1))
    acc = {
        "componentType": _FLOAT,
        "count": int(d.shape[0]),
        "type": "VEC3",
        "min": [_num(x) for x in d.min(axis=0)],
        "max": [_num(x) for x in d.max(axis=0)],
    }
    if len(moved):
        small = d.shape[0] <= 65535
        idx = moved.astype(np.uint16 if small else np.uint32)
        acc["sparse"] = {
            "count": int(len(moved)),
            "indices": {"bufferView": b.view(idx.tobytes()),
                        "componentType": _USHORT if small else _UINT},
            "values": {"bufferView": b.view(np.ascontiguousarray(d[moved]).tobytes())},
        }  # fmt: skip
    b.accessors.append(acc)
    return len(b.accessors) - 1


def build_glb(
    model,
    anim,
    *,
    start: float = 0.0,
    name: str = "head",
    base_color: tuple[float, float, float, float] = (0.80, 0.62, 0.52, 1.0),
    sparse: bool = True,
    animation_only: bool = False,
    audio: str | os.PathLike | None = None,
) -> bytes:
    """The ``.glb`` bytes for ``model`` animated by ``anim`` (see the module docstring).

    Parameters
    ----------
    model : HeadModel or None
        ``names`` (K,), ``neutral`` (V, 3), ``faces`` (F, 3), ``deltas`` (K, V, 3), and
        optionally ``colors`` (V, 3) in [0, 1]. Ignored with ``animation_only``.
    anim : BlendshapeAnimation
        Its names must all be blendshapes of the model (missing model shapes stay 0);
        with ``animation_only`` any names.
    start : float
        Time of frame 0 in seconds (the audio starts at 0).
    name : str
        Name of the node and mesh.
    base_color : 4 floats
        Material base colour (multiplied by the vertex colours when present).
    sparse : bool
        Store morph targets as sparse accessors (lossless: exactly-zero deltas dropped).
    animation_only : bool
        A stub mesh with zero morph targets named ``anim.names`` instead of the head:
        the animation for an avatar that has morph targets of those names.
    audio : str or path-like, optional
        The speech file, recorded in ``animations[0].extras.audio.uri`` as given
        (:func:`write_glb` makes it relative to the .glb's folder).
    """
    if animation_only:
        model = _stub_model(anim.names)
    elif model is None:
        raise InvalidArgumentError("model=None must be a HeadModel unless animation_only=True")
    neutral = np.ascontiguousarray(model.neutral, dtype=np.float32)
    faces = np.ascontiguousarray(model.faces, dtype=np.int64)
    deltas = np.ascontiguousarray(model.deltas, dtype=np.float32)
    names = tuple(model.names)
    v_count = neutral.shape[0]
    if neutral.ndim != 2 or neutral.shape[1] != 3 or v_count == 0:
        raise InvalidArgumentError(f"model.neutral.shape={neutral.shape} must be (V, 3), V > 0")
    if faces.ndim != 2 or faces.shape[1] != 3 or len(faces) == 0:
        raise InvalidArgumentError(f"model.faces.shape={faces.shape} must be (F, 3), F > 0")
    if deltas.shape != (len(names), v_count, 3):
        raise InvalidArgumentError(
            f"model.deltas.shape={deltas.shape} must be ({len(names)}, {v_count}, 3)"
        )
    if start < 0 or not math.isfinite(start):
        raise InvalidArgumentError(f"start={start} must be >= 0 seconds")
    if anim.n_frames < 1:
        raise InvalidArgumentError("anim must have at least one frame to export a .glb")
    col = {n: i for i, n in enumerate(names)}
    unknown = [n for n in anim.names if n not in col]
    if unknown:
        raise InvalidArgumentError(
            f"anim.names {unknown[:5]} must be blendshapes of the model (model has {len(names)})"
        )
    t_count = anim.n_frames
    weights = np.zeros((t_count, len(names)), dtype=np.float32)
    weights[:, [col[n] for n in anim.names]] = anim.weights

    b = _Bin()
    attrs = {
        "POSITION": b.accessor(neutral, "VEC3", target=_ARRAY_BUFFER, minmax=True),
        "NORMAL": b.accessor(vertex_normals(neutral, faces), "VEC3", target=_ARRAY_BUFFER),
    }
    colors = getattr(model, "colors", None)
    if colors is not None:
        c = np.clip(np.asarray(colors, dtype=np.float32), 0.0, 1.0)
        attrs["COLOR_0"] = b.accessor(c, "VEC3", target=_ARRAY_BUFFER)
    if v_count <= 65535:
        idx = b.accessor(faces.astype(np.uint16).reshape(-1), "SCALAR",
                         target=_ELEMENT_ARRAY_BUFFER, ctype=_USHORT)  # fmt: skip
    else:
        idx = b.accessor(faces.astype(np.uint32).reshape(-1), "SCALAR",
                         target=_ELEMENT_ARRAY_BUFFER, ctype=_UINT)  # fmt: skip
    targets = [{"POSITION": _morph_accessor(b, d, sparse)} for d in deltas]

    times = (start + np.arange(t_count, dtype=np.float64) / anim.fps).astype(np.float32)
    if t_count > 1 and np.any(np.diff(times) <= 0):
        raise InvalidArgumentError(
            f"fps={anim.fps} is too high for float32 key times over {t_count} frames"
        )
    t_acc = b.accessor(times, "SCALAR", minmax=True)
    w_acc = b.accessor(weights.reshape(-1), "SCALAR")
    q_acc = b.accessor(rotvec_to_quaternion(anim.rotation).astype(np.float32), "VEC4")
    samplers = [
        {"input": t_acc, "output": w_acc, "interpolation": "LINEAR"},
        {"input": t_acc, "output": q_acc, "interpolation": "LINEAR"},
    ]
    channels = [
        {"sampler": 0, "target": {"node": 0, "path": "weights"}},
        {"sampler": 1, "target": {"node": 0, "path": "rotation"}},
    ]
    if anim.translation is not None:
        tr_acc = b.accessor(np.asarray(anim.translation, np.float32), "VEC3")
        samplers.append({"input": t_acc, "output": tr_acc, "interpolation": "LINEAR"})
        channels.append({"sampler": 2, "target": {"node": 0, "path": "translation"}})

    doc = {
        "asset": {"version": "2.0", "generator": "talkinghead"},
        "scene": 0,
        "scenes": [{"name": "talkinghead", "nodes": [0]}],
        "nodes": [{"name": name, "mesh": 0}],
        "meshes": [
            {
                "name": name,
                "primitives": [
                    {
                        "attributes": attrs,
                        "indices": idx,
                        "material": 0,
                        "mode": 4,
                        "targets": targets,
                    }  # fmt: skip
                ],
                "weights": [0.0] * len(names),
                "extras": {"targetNames": list(names)},
            }
        ],
        "materials": [
            {
                "name": "skin",
                "pbrMetallicRoughness": {
                    "baseColorFactor": [float(x) for x in base_color],
                    "metallicFactor": 0.0,
                    "roughnessFactor": 0.7,
                },
            }
        ],
        "animations": [
            {
                "name": "speech",
                "samplers": samplers,
                "channels": channels,
                "extras": {
                    "fps": float(anim.fps),
                    "n_frames": int(t_count),
                    "start": start,
                    "targetNames": list(names),
                    **(
                        {"audio": {"uri": Path(audio).as_posix(), "start": 0.0}}
                        if audio is not None
                        else {}
                    ),
                },  # fmt: skip
            }
        ],
        "buffers": [],
        "bufferViews": b.views,
        "accessors": b.accessors,
    }
    binary = b.data()
    binary += b"\0" * ((-len(binary)) % 4)
    doc["buffers"] = [{"byteLength": len(binary)}]
    js = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    js += b" " * ((-len(js)) % 4)
    total = 12 + 8 + len(js) + 8 + len(binary)
    return b"".join(
        [
            struct.pack("<4sII", b"glTF", 2, total),
            struct.pack("<I4s", len(js), b"JSON"),
            js,
            struct.pack("<I4s", len(binary), b"BIN\0"),
            binary,
        ]
    )


def write_glb(path: str | os.PathLike, model, anim, *, audio=None, **kwargs) -> Path:
    """Write :func:`build_glb` ``(model, anim, **kwargs)`` to ``path`` (atomic).

    ``audio`` (a path) is stored relative to the .glb's folder when it can be, else as
    an absolute path."""
    path = Path(path)
    if audio is not None and str(audio):
        a = Path(audio).resolve()
        try:
            audio = Path(os.path.relpath(a, path.resolve().parent))
        except ValueError:  # another drive on Windows
            audio = a
    else:
        audio = None
    data = build_glb(model, anim, audio=audio, **kwargs)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path
