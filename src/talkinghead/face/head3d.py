"""A 3D blendshape head: ``S = R (B0 + sum_i (B_i - B0) w_i) + t`` with the 52 ARKit shapes.

Conventions (glTF):

* units are metres (the shipped head is ~0.15 m wide, outer eye corners 0.09 m apart);
* ``+y`` is up, ``+z`` points toward the viewer (out of the face), ``+x`` is the
  **subject's left** (the viewer's right); triangles are counter-clockwise seen from
  outside (normals point outwards);
* "Left"/"Right" in blendshape names follow ARKit: the subject's left/right;
* the origin is the rotation pivot of the head (roughly the centre of the skull, behind
  the nose and a little below the eyes), so ``pose`` turns the head about its neck-ish
  centre, not about the nose tip.

Rotations are rotation vectors (axis * angle, radians) in these model coordinates.
:func:`~talkinghead.face.geometry.rotation_to_euler` /
:func:`~talkinghead.face.geometry.euler_to_rotation` convert to and from
``yaw, pitch, roll`` with ``R = Ry(yaw) @ Rx(pitch) @ Rz(roll)``:

* ``yaw`` > 0 turns the face toward the subject's left (the viewer's right);
* ``pitch`` > 0 tilts the face down (a nod down: the nose moves toward ``-y``);
* ``roll`` > 0 tilts the head toward the subject's right shoulder (the subject's left
  side goes up; counter-clockwise as the viewer sees it).

Pure numpy, cheap to import. The shipped default head is ``talkinghead/data/head_model.npz``
(built by ``scripts/build_head_model.py``); load it with :func:`load_head_model`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data import HEAD_MODEL
from ..errors import InvalidArgumentError, MediaError
from .arkit import ARKIT_NAMES
from .geometry import euler_to_rotation, rotation_matrix, rotation_to_euler

__all__ = [
    "BlendshapeAnimation",
    "HeadModel",
    "N_FACE_MESH",
    "euler_to_rotation",
    "load_head_model",
    "rotation_matrix",
    "rotation_to_euler",
    "vertex_normals",
]

#: The first ``N_FACE_MESH`` vertices of a :class:`HeadModel` are the Face Mesh points
#: 0..467 (same order as mediapipe), so tracked meshes can be compared vertex by vertex.
N_FACE_MESH = 468

DEFAULT_HEAD_PATH = HEAD_MODEL


# --------------------------------------------------------------------------- the model
@dataclass
class HeadModel:
    """A blendshape head.

    Attributes
    ----------
    names : tuple of str, length K (52)
        Blendshape names (:data:`talkinghead.face.arkit.ARKIT_NAMES` order).
    neutral : ndarray, shape (V, 3), float32
        Rest shape ``B0`` in metres (see the module docstring for axes). Vertices
        ``0..467`` are the Face Mesh points.
    faces : ndarray, shape (F, 3), int32
        Triangles, counter-clockwise seen from outside.
    deltas : ndarray, shape (K, V, 3), float32
        ``B_i - B0``.
    colors : ndarray, shape (V, 3), float32, optional
        Albedo per vertex in [0, 1] (skin, lips, mouth cavity, teeth, eyes).
    groups : dict of str -> ndarray of int
        Named vertex index sets, e.g. ``"face_mesh"`` (0..467), ``"lips"``, ``"teeth_upper"``,
        ``"teeth_lower"``, ``"mouth_cavity"``, ``"eye_left"``, ``"eye_right"``, ``"scalp"``.
    """

    names: tuple[str, ...]
    neutral: np.ndarray
    faces: np.ndarray
    deltas: np.ndarray
    colors: np.ndarray | None = None
    groups: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.names = tuple(str(n) for n in self.names)
        self.neutral = np.ascontiguousarray(self.neutral, dtype=np.float32)
        self.faces = np.ascontiguousarray(self.faces, dtype=np.int32)
        self.deltas = np.ascontiguousarray(self.deltas, dtype=np.float32)
        v = self.neutral.shape[0]
        if self.neutral.ndim != 2 or self.neutral.shape[1] != 3:
            raise InvalidArgumentError(f"neutral.shape={self.neutral.shape} must be (V, 3)")
        if self.faces.ndim != 2 or self.faces.shape[1] != 3:
            raise InvalidArgumentError(f"faces.shape={self.faces.shape} must be (F, 3)")
        if self.faces.size and (self.faces.min() < 0 or self.faces.max() >= v):
            raise InvalidArgumentError(f"faces must index vertices 0..{v - 1}")
        if self.deltas.shape != (len(self.names), v, 3):
            raise InvalidArgumentError(
                f"deltas.shape={self.deltas.shape} must be ({len(self.names)}, {v}, 3)"
            )
        if self.colors is not None:
            self.colors = np.ascontiguousarray(self.colors, dtype=np.float32)
            if self.colors.shape != (v, 3):
                raise InvalidArgumentError(f"colors.shape={self.colors.shape} must be ({v}, 3)")
        self.groups = {str(k): np.asarray(g, dtype=np.int32) for k, g in self.groups.items()}

    # -- sizes
    @property
    def n_vertices(self) -> int:
        return int(self.neutral.shape[0])

    @property
    def n_shapes(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        """Column of blendshape ``name`` (raises InvalidArgumentError if unknown)."""
        try:
            return self.names.index(name)
        except ValueError:
            raise InvalidArgumentError(
                f"name={name!r} must be one of the model's blendshapes"
            ) from None

    # -- geometry
    def _check_weights(self, weights) -> np.ndarray:
        w = np.asarray(weights, dtype=np.float32)
        if w.shape[-1:] != (self.n_shapes,):
            raise InvalidArgumentError(
                f"weights.shape={w.shape} must be (..., {self.n_shapes}) blendshape weights"
            )
        return w

    def deform(self, weights) -> np.ndarray:
        """``B0 + sum_i w_i (B_i - B0)``.

        Parameters
        ----------
        weights : array_like, shape (..., K)

        Returns
        -------
        ndarray, shape (..., V, 3), float32
        """
        w = self._check_weights(weights)
        flat = self.deltas.reshape(self.n_shapes, -1)
        out = w.reshape(-1, self.n_shapes) @ flat + self.neutral.reshape(1, -1)
        return out.reshape(w.shape[:-1] + self.neutral.shape)

    def pose(self, weights, rotation=None, translation=None) -> np.ndarray:
        """``R(rotation) @ deform(weights) + translation`` for one frame.

        Parameters
        ----------
        weights : array_like, shape (K,)
        rotation : array_like, shape (3,), optional
            Rotation vector in radians about the model origin.
        translation : array_like, shape (3,), optional
            Metres.

        Returns
        -------
        ndarray, shape (V, 3), float32
        """
        v = self.deform(weights)
        if v.ndim != 2:
            raise InvalidArgumentError(f"weights must be one frame (K,), got shape {v.shape[:-2]}")
        if rotation is not None:
            v = v @ rotation_matrix(rotation).T.astype(np.float32)
        if translation is not None:
            t = np.asarray(translation, dtype=np.float32)
            if t.shape != (3,):
                raise InvalidArgumentError(f"translation.shape={t.shape} must be (3,)")
            v = v + t
        return np.ascontiguousarray(v, dtype=np.float32)

    def vertex_normals(self, vertices: np.ndarray | None = None) -> np.ndarray:
        """:func:`vertex_normals` of ``vertices`` (default: the neutral) on this mesh."""
        return vertex_normals(self.neutral if vertices is None else vertices, self.faces)

    # -- io
    def save(self, path: str | os.PathLike) -> Path:
        """Write an ``.npz`` (atomic)."""
        from .._util.atomic import save_npz_atomic

        arrays = {
            "names": np.array(self.names),
            "neutral": self.neutral,
            "faces": self.faces,
            "deltas": self.deltas,
        }
        if self.colors is not None:
            arrays["colors"] = self.colors
        for k, g in self.groups.items():
            arrays[f"group__{k}"] = g
        return save_npz_atomic(path, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> HeadModel:
        """Read a model written by :meth:`save`."""
        p = Path(path)
        if not p.is_file():
            raise MediaError(f"head model file {p} does not exist")
        try:
            with np.load(p, allow_pickle=False) as z:
                groups = {k[len("group__") :]: z[k] for k in z.files if k.startswith("group__")}
                return cls(
                    names=tuple(z["names"].tolist()),
                    neutral=z["neutral"],
                    faces=z["faces"],
                    deltas=z["deltas"].astype(np.float32),
                    colors=z["colors"] if "colors" in z.files else None,
                    groups=groups,
                )
        except (OSError, KeyError, ValueError) as exc:
            raise MediaError(f"head model file {p} is not a valid head model .npz: {exc}") from exc


_DEFAULT: HeadModel | None = None


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals of a triangle mesh (the one implementation: the
    renderers, the glb export).

    Parameters
    ----------
    vertices : ndarray, shape (V, 3)
    faces : ndarray of int, shape (F, 3)

    Returns
    -------
    ndarray, shape (V, 3), float32
        A vertex in no triangle gets +z.
    """
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces)
    tri = v[f]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    # the corners' face normals summed per vertex, corner 0 of every face first (== add.at)
    idx, fn3 = f.T.reshape(-1), np.concatenate([fn, fn, fn], axis=0)
    n = np.stack([np.bincount(idx, fn3[:, k], minlength=len(v)) for k in range(3)], axis=1)
    norm = np.linalg.norm(n, axis=1, keepdims=True)
    n = np.where(norm > 1e-20, n / np.maximum(norm, 1e-30), np.array([0.0, 0.0, 1.0]))
    return n.astype(np.float32)


def load_head_model(path: str | os.PathLike | None = None) -> HeadModel:
    """The shipped default head (cached), or the model at ``path``."""
    global _DEFAULT
    if path is not None:
        return HeadModel.load(path)
    if _DEFAULT is None:
        _DEFAULT = HeadModel.load(DEFAULT_HEAD_PATH)
    return _DEFAULT


# --------------------------------------------------------------------------- animation
@dataclass
class BlendshapeAnimation:
    """Blendshape weights and head pose over time.

    Attributes
    ----------
    fps : float
    names : tuple of str, length K
        Column names of ``weights`` (normally :data:`ARKIT_NAMES`).
    weights : ndarray, shape (T, K), float32, in [0, 1]
    rotation : ndarray, shape (T, 3), float32
        Head rotation vectors (radians, model axes; see :func:`rotation_to_euler`).
    translation : ndarray, shape (T, 3), float32, or None
        Head translation in metres (None: no translation).
    """

    fps: float
    weights: np.ndarray
    rotation: np.ndarray | None = None
    translation: np.ndarray | None = None
    names: tuple[str, ...] = ARKIT_NAMES

    def __post_init__(self) -> None:
        self.fps = float(self.fps)
        if not np.isfinite(self.fps) or self.fps <= 0:
            raise InvalidArgumentError(f"fps={self.fps} must be a positive number")
        self.names = tuple(str(n) for n in self.names)
        self.weights = np.asarray(self.weights, dtype=np.float32)
        if self.weights.ndim != 2 or self.weights.shape[1] != len(self.names):
            raise InvalidArgumentError(
                f"weights.shape={self.weights.shape} must be (T, {len(self.names)})"
            )
        t = self.weights.shape[0]
        if self.rotation is None:
            self.rotation = np.zeros((t, 3), np.float32)
        self.rotation = np.asarray(self.rotation, dtype=np.float32)
        if self.rotation.shape != (t, 3):
            raise InvalidArgumentError(f"rotation.shape={self.rotation.shape} must be ({t}, 3)")
        if self.translation is not None:
            self.translation = np.asarray(self.translation, dtype=np.float32)
            if self.translation.shape != (t, 3):
                raise InvalidArgumentError(
                    f"translation.shape={self.translation.shape} must be ({t}, 3)"
                )

    @property
    def n_frames(self) -> int:
        return int(self.weights.shape[0])

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.n_frames / self.fps

    def column(self, name: str) -> np.ndarray:
        """Weights of blendshape ``name``, shape (T,)."""
        if name not in self.names:
            raise InvalidArgumentError(f"name={name!r} must be one of the animation's names")
        return self.weights[:, self.names.index(name)]

    def euler(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(yaw, pitch, roll)`` per frame, radians, each shape (T,)."""
        return rotation_to_euler(self.rotation)

    def save(self, path: str | os.PathLike) -> Path:
        """Write an ``.npz`` (atomic)."""
        from .._util.atomic import save_npz_atomic

        arrays = {
            "fps": np.float64(self.fps),
            "names": np.array(self.names),
            "weights": self.weights,
            "rotation": self.rotation,
        }
        if self.translation is not None:
            arrays["translation"] = self.translation
        return save_npz_atomic(path, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> BlendshapeAnimation:
        """Read an animation written by :meth:`save`."""
        p = Path(path)
        if not p.is_file():
            raise MediaError(f"animation file {p} does not exist")
        try:
            with np.load(p, allow_pickle=False) as z:
                return cls(
                    fps=float(z["fps"]),
                    names=tuple(z["names"].tolist()),
                    weights=z["weights"],
                    rotation=z["rotation"],
                    translation=z["translation"] if "translation" in z.files else None,
                )
        except (OSError, KeyError, ValueError) as exc:
            raise MediaError(f"animation file {p} is not a valid animation .npz: {exc}") from exc
