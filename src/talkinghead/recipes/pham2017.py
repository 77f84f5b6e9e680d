"""Pham et al. 2017: 537-d features -> unidirectional LSTM -> head rotation + blendshapes.

- Inputs: :func:`talkinghead.audio.features.pham2017` (three 25 ms windows per frame of
  128 log-mel bands, 13 MFCC + deltas + delta-deltas, 12 chroma; 537 per frame),
  normalised to zero mean and unit variance.
- Targets: ``(T, 3 + N)``: head rotation as the three vector parameters of a unit
  quaternion (``w >= 0``), then N expression (blendshape) weights. They come from a
  pluggable ``target_fn(clip) -> (T, 3 + N)``; the default, :func:`fit3d_targets`, uses
  :func:`talkinghead.face.fit3d.fit_blendshapes` (52 ARKit weights + rotation vector).
- Topologies: ``net1`` (600-200), ``net2`` (300-200), ``net3`` (600-600); two output
  layers: rotation (3, linear) and expression weights (ReLU).
- Schedule (the paper, 300 epochs): lr 0.003 for 2 epochs, 0.0015 for the next 12,
  0.0003 after. The paper (CNTK) does not name the optimiser; we use Adam. Loss: MSE.
- Baseline: :class:`SVRBaseline`, one linear SVR per output on subsampled frames.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import InvalidArgumentError
from ..models.sequence import HeadSpec, TargetTransform
from ..training.data import ClipData
from .base import Recipe
from .shape import fill_invalid

__all__ = ["Pham2017", "SVRBaseline", "fit3d_targets", "rotvec_to_quaternion_vector"]


def rotvec_to_quaternion_vector(rotvec: np.ndarray) -> np.ndarray:
    """Rotation vectors ``(..., 3)`` -> vector part ``(x, y, z)`` of the unit quaternion.

    The quaternion is taken with ``w >= 0`` (angles in [0, pi]), so the three values
    determine the rotation: ``w = sqrt(1 - |v|^2)``.
    """
    r = np.asarray(rotvec, dtype=np.float64)
    angle = np.linalg.norm(r, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        axis = np.where(angle > 1e-12, r / angle, 0.0)
    return (axis * np.sin(angle / 2.0)).astype(np.float32)


def fit3d_targets(clip: ClipData) -> np.ndarray:
    """Default Pham targets: ``(T, 3 + 52)``, the rotation as a quaternion vector and the
    52 ARKit weights of :func:`talkinghead.face.fit3d.fit_blendshapes` on the clip's mesh
    (another ``target_fn`` can be given to :class:`Pham2017`)."""
    from ..face.fit3d import fit_blendshapes

    valid = clip.valid
    mesh = fill_invalid(clip.array("mesh"), valid)
    fit = fit_blendshapes(mesh, fps=clip.fps, valid=valid).animation
    q = rotvec_to_quaternion_vector(fit.rotation)
    return np.concatenate([q, np.asarray(fit.weights, np.float32)], axis=1)


class Pham2017(Recipe):
    """Speech -> head rotation + expression weights (see the module docstring)."""

    name = "pham2017"
    topologies = {"net1": ["L600", "L200"], "net2": ["L300", "L200"], "net3": ["L600", "L600"]}
    default_topology = "net1"
    dropout = 0.0
    lr = 0.003
    batch_size = 16
    epochs = 300
    patience = 20

    def __init__(
        self,
        *,
        delay_ms: float = 0.0,
        lr: float | None = None,
        target_fn: Callable[[ClipData], np.ndarray] | None = None,
    ) -> None:
        super().__init__(delay_ms=delay_ms, lr=lr)
        self.target_fn = target_fn or fit3d_targets

    def inputs(self, clip: ClipData) -> np.ndarray:
        return clip.feature("pham2017")

    def targets(self, clip: ClipData) -> tuple[np.ndarray, np.ndarray]:
        y = np.asarray(self.target_fn(clip), dtype=np.float32)
        if y.ndim != 2 or y.shape[0] != clip.n_frames or y.shape[1] < 4:
            raise InvalidArgumentError(
                f"target_fn(clip {clip.id!r}) returned shape {y.shape}; must be "
                f"(n_frames={clip.n_frames}, 3 + N) with N >= 1"
            )
        return y, clip.valid & np.all(np.isfinite(y), axis=1)

    def fit_target_transform(self, ys, masks):
        # identity: the ReLU head predicts weights >= 0 in their own units
        k = ys[0].shape[1]
        return TargetTransform(mean=np.zeros(k), scale=np.ones(k))

    def heads(self, output_dim: int) -> list[HeadSpec]:
        return [HeadSpec("rotation", 3, "linear"), HeadSpec("expression", output_dim - 3, "relu")]

    def lr_factor(self, epoch: int) -> float:
        # 0.003 (epochs 0-1), 0.0015 (2-13), 0.0003 (14-)
        return 1.0 if epoch < 2 else 0.5 if epoch < 14 else 0.1


class SVRBaseline:
    """Pham et al.'s SVR baseline: one support vector regressor per output dimension.

    Parameters
    ----------
    kernel : {"linear", "rbf"}
        ``"linear"`` uses :class:`sklearn.svm.LinearSVR` (fast, saveable); ``"rbf"``
        :class:`sklearn.svm.SVR`.
    C, epsilon : float
        SVR hyper-parameters.
    subsample : int
        Keep every ``subsample``-th training frame.
    max_rows : int
        At most this many training rows (evenly spaced).
    """

    def __init__(
        self,
        *,
        kernel: str = "linear",
        C: float = 1.0,
        epsilon: float = 0.0,
        subsample: int = 5,
        max_rows: int = 20000,
    ):
        if kernel not in ("linear", "rbf"):
            raise InvalidArgumentError(f"kernel={kernel!r} must be 'linear' or 'rbf'")
        self.kernel, self.C, self.epsilon = kernel, float(C), float(epsilon)
        self.subsample, self.max_rows = int(subsample), int(max_rows)
        self.models: list = []

    def fit(self, x: np.ndarray, y: np.ndarray) -> SVRBaseline:
        """Fit on frames ``x (M, D)`` (normalised features) and targets ``y (M, K)``."""
        from sklearn.svm import SVR, LinearSVR

        x = np.asarray(x, np.float64)[:: self.subsample]
        y = np.asarray(y, np.float64)[:: self.subsample]
        if len(x) > self.max_rows:
            keep = np.linspace(0, len(x) - 1, self.max_rows).astype(int)
            x, y = x[keep], y[keep]
        self.models = []
        for k in range(y.shape[1]):
            if self.kernel == "linear":
                m = LinearSVR(
                    C=self.C, epsilon=self.epsilon, dual="auto", max_iter=5000, random_state=0
                )
            else:
                m = SVR(kernel="rbf", C=self.C, epsilon=self.epsilon)
            self.models.append(m.fit(x, y[:, k]))
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Outputs ``(M, K)`` float32 for frames ``x (M, D)``."""
        x = np.asarray(x, np.float64)
        return np.stack([m.predict(x) for m in self.models], axis=1).astype(np.float32)

    def save(self, path: str | os.PathLike) -> Path:
        """Save a linear model as JSON (coefficients and intercepts)."""
        from .._util.atomic import write_text_atomic

        if self.kernel != "linear":
            raise InvalidArgumentError("kernel='rbf' models cannot be saved; use kernel='linear'")
        d = {
            "format": "talkinghead.SVRBaseline",
            "coef": [m.coef_.tolist() for m in self.models],
            "intercept": [float(np.ravel(m.intercept_)[0]) for m in self.models],
        }
        return write_text_atomic(path, json.dumps(d) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> _LinearModel:
        """A predictor with ``predict(x)`` from :meth:`save`'s file."""
        d = json.loads(Path(path).read_text(encoding="utf-8"))
        return _LinearModel(np.asarray(d["coef"]), np.asarray(d["intercept"]))


class _LinearModel:
    def __init__(self, coef: np.ndarray, intercept: np.ndarray) -> None:
        self.coef, self.intercept = coef, intercept  # (K, D), (K,)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, np.float64) @ self.coef.T + self.intercept).astype(np.float32)
