"""Landmark normalisation of Eskimez et al. (2018).

1. :func:`pin_eyes`: one similarity transform, computed on the *first* frame,
   moves its two eye centres to fixed positions; the same transform is applied to
   every frame (so head motion relative to the first frame is kept).
2. :func:`remove_identity`: the speaker's own mean shape is swapped for the
   dataset mean shape: ``x_t - mean_speaker + mean_dataset``. The speaker's
   mean is returned as the identity so that :func:`restore_identity` can put it
   (or another person's) back: ``x_t - mean_dataset + identity``.

All functions take ``(T, 68, 2)`` arrays and are exact inverses of each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidArgumentError
from .landmarks68 import eye_centres_68

__all__ = [
    "SimilarityTransform",
    "DEFAULT_EYES",
    "pin_eyes",
    "remove_identity",
    "restore_identity",
    "neutral_face_68",
]

#: Eye-centre positions after :func:`pin_eyes` (right eye, left eye), y down.
DEFAULT_EYES = ((-0.5, 0.0), (0.5, 0.0))


@dataclass(frozen=True)
class SimilarityTransform:
    """``y = scale * R(angle) @ x + translation`` in 2D."""

    scale: float
    angle: float
    translation: tuple[float, float]

    @property
    def matrix(self) -> np.ndarray:
        """(2, 2) linear part."""
        c, s = np.cos(self.angle), np.sin(self.angle)
        return self.scale * np.array([[c, -s], [s, c]])

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Transform points (..., 2)."""
        return np.asarray(points, dtype=np.float64) @ self.matrix.T + np.asarray(self.translation)

    def inverse(self) -> SimilarityTransform:
        inv_scale = 1.0 / self.scale
        c, s = np.cos(-self.angle), np.sin(-self.angle)
        t = -inv_scale * np.array([[c, -s], [s, c]]) @ np.asarray(self.translation)
        return SimilarityTransform(inv_scale, -self.angle, (float(t[0]), float(t[1])))

    @classmethod
    def from_two_points(cls, src: np.ndarray, dst: np.ndarray) -> SimilarityTransform:
        """The transform that maps the two points ``src`` (2, 2) exactly onto ``dst``."""
        src, dst = np.asarray(src, float), np.asarray(dst, float)
        vs, vd = src[1] - src[0], dst[1] - dst[0]
        ns, nd = np.linalg.norm(vs), np.linalg.norm(vd)
        if not ns > 0:
            raise InvalidArgumentError("the two eye centres coincide: landmarks must be a face")
        scale = nd / ns
        angle = float(np.arctan2(vd[1], vd[0]) - np.arctan2(vs[1], vs[0]))
        c, s = np.cos(angle), np.sin(angle)
        t = dst[0] - scale * np.array([[c, -s], [s, c]]) @ src[0]
        return cls(float(scale), angle, (float(t[0]), float(t[1])))


def _check(landmarks, name="landmarks") -> np.ndarray:
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.ndim != 3 or lm.shape[1:] != (68, 2):
        raise InvalidArgumentError(f"{name}.shape={lm.shape} must be (T, 68, 2)")
    return lm


def pin_eyes(
    landmarks: np.ndarray, *, eyes: tuple = DEFAULT_EYES, frame: int | None = None
) -> tuple[np.ndarray, SimilarityTransform]:
    """Pin the first frame's eye centres to ``eyes``; apply that transform to all frames.

    Parameters
    ----------
    landmarks : ndarray, shape (T, 68, 2)
        The first frame must be finite (the first *valid* frame is used otherwise).
    eyes : ((x, y), (x, y))
        Target centres of the subject's right eye (image left) and left eye.
    frame : int, optional
        The frame whose eyes are pinned (e.g. the first *tracked* frame); default the
        first finite one.

    Returns
    -------
    normalised : ndarray, shape (T, 68, 2)
    transform : SimilarityTransform
        ``transform.inverse().apply(normalised)`` gives back ``landmarks``.
    """
    lm = _check(landmarks)
    if frame is None:
        finite = np.flatnonzero(np.isfinite(lm).all(axis=(1, 2)))
        if len(finite) == 0:
            raise InvalidArgumentError("landmarks must hold at least one finite frame")
        frame = int(finite[0])
    elif not 0 <= int(frame) < len(lm):
        raise InvalidArgumentError(f"frame={frame!r} must be in [0, {len(lm)})")
    tf = SimilarityTransform.from_two_points(eye_centres_68(lm[int(frame)]), np.asarray(eyes))
    return tf.apply(lm), tf


def remove_identity(
    landmarks: np.ndarray, *, mean_shape: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Move a speaker's landmarks onto the dataset mean shape.

    Parameters
    ----------
    landmarks : ndarray, shape (T, 68, 2)
        Eye-pinned landmarks of one speaker (NaN frames are ignored in the mean).
    mean_shape : ndarray, shape (68, 2)
        The dataset's mean (eye-pinned) shape, e.g. :func:`neutral_face_68`.

    Returns
    -------
    normalised : ndarray, shape (T, 68, 2)
        ``landmarks - identity + mean_shape``.
    identity : ndarray, shape (68, 2)
        The speaker's own mean shape.
    """
    lm = _check(landmarks)
    mean_shape = np.asarray(mean_shape, dtype=np.float64)
    if mean_shape.shape != (68, 2):
        raise InvalidArgumentError(f"mean_shape.shape={mean_shape.shape} must be (68, 2)")
    identity = np.nanmean(lm, axis=0)
    return lm - identity + mean_shape, identity


def restore_identity(
    landmarks: np.ndarray, identity: np.ndarray, *, mean_shape: np.ndarray
) -> np.ndarray:
    """Inverse of :func:`remove_identity`: ``landmarks - mean_shape + identity``."""
    lm = _check(landmarks)
    return lm - np.asarray(mean_shape, dtype=np.float64) + np.asarray(identity, dtype=np.float64)


_NEUTRAL: np.ndarray | None = None


def neutral_face_68() -> np.ndarray:
    """The mean neutral 68-point face (68, 2) of tracked real faces, lips closed.

    Eye-pinned: eye centres at (-0.5, 0) and (0.5, 0), y down. Built from real
    clips by ``scripts/build_face_reference.py``.
    """
    global _NEUTRAL
    if _NEUTRAL is None:
        from ..data import FACE_REFERENCE

        with np.load(FACE_REFERENCE) as z:
            _NEUTRAL = np.asarray(z["neutral_68"], dtype=np.float64)
        _NEUTRAL.flags.writeable = False
    return _NEUTRAL
