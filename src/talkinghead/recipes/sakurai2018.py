"""Sakurai et al. 2018: 40-d MFCC/energy/F0 features -> BLSTM networks -> face code.

- Inputs: :func:`talkinghead.audio.features.sakurai2018` (12 MFCC + energy, deltas,
  delta-deltas, F0; 40 per frame).
- Targets: the face code. The paper's AAM code is 8 shape + 8 appearance PCA
  parameters; until appearance is available we use the shape part only: the 68
  landmarks, similarity-aligned (Procrustes) onto the training mean shape, projected on
  the PCA components that keep 98 % of the variance (the paper's shape variance). The
  PCA is saved with the checkpoint (``target.safetensors``), so predictions decode to
  aligned landmarks.
- Topologies (three layers, equal units, ~600k parameters): ``FBF`` (312), ``BFF``
  (418), ``BBF`` (262); B = BLSTM (units = both directions), F = feed-forward with ReLU
  except the last (the linear output layer). Dropout 0.5 on the first two layers.
- Optimiser: RMSprop (gamma 0.99, eps 1e-8). The paper prints lr 0.1 for this method
  (0.001 for its baseline); with PyTorch's RMSprop 0.1 diverges (the validation loss
  goes to ~1e3 on codes of unit scale), so the default is 0.001; pass ``lr=0.1`` (CLI
  ``--lr 0.1``) for the printed value. Loss: MSE.
"""

from __future__ import annotations

import numpy as np
import torch

from ..training.data import ClipData
from ._shape import align_similarity, fill_invalid, fit_pca_transform, mean_shape
from .base import Recipe

__all__ = ["Sakurai2018", "FaceCodeMixin"]


class FaceCodeMixin:
    """Targets = landmarks aligned onto the training mean shape; PCA in the transform.

    ``points`` selects the landmarks of the code, ``align_on`` the points that define
    the per-frame similarity transform (None: the same points).
    """

    points: tuple | None = None
    align_on: tuple | None = None
    variance = 0.98

    def _init_code(self) -> None:
        self.ref: np.ndarray | None = None  # (68, 2) unit-size mean shape

    def _landmarks(self, clip: ClipData) -> tuple[np.ndarray, np.ndarray]:
        valid = clip.valid
        return fill_invalid(clip.array("landmarks68"), valid), valid

    def fit(self, clips, targets) -> None:
        frames = []
        for c in clips:
            lm, valid = self._landmarks(c)
            frames.append(lm[valid][:: max(1, int(valid.sum()) // 200)])
        frames = np.concatenate(frames)
        self.ref = mean_shape(frames, self.align_on or self.points)

    def state(self) -> dict:
        return {"ref": None if self.ref is None else self.ref.tolist()}

    def load_state(self, state: dict) -> None:
        r = state.get("ref")
        self.ref = None if r is None else np.asarray(r, dtype=np.float64)

    def targets(self, clip: ClipData) -> tuple[np.ndarray, np.ndarray]:
        if self.ref is None:
            raise RuntimeError("fit() must run before targets()")  # programming error
        lm, valid = self._landmarks(clip)
        al = align_similarity(lm, self.ref, self.align_on or self.points)
        if self.points is not None:
            al = al[:, list(self.points)]
        return al.reshape(len(al), -1).astype(np.float32), valid

    def fit_target_transform(self, ys, masks):
        rows = np.concatenate([y[m] for y, m in zip(ys, masks, strict=True)])
        return fit_pca_transform(rows, variance=self.variance)


class Sakurai2018(FaceCodeMixin, Recipe):
    """Speech -> face code with FBF / BFF / BBF networks (see the module docstring)."""

    name = "sakurai2018"
    topologies = {"FBF": ["F312", "B312"], "BFF": ["B418", "F418"], "BBF": ["B262", "B262"]}
    default_topology = "BBF"
    dropout = 0.5
    lr = 1e-3
    batch_size = 16
    epochs = 100
    patience = 10

    def __init__(self, *, delay_ms: float = 0.0, lr: float | None = None) -> None:
        super().__init__(delay_ms=delay_ms, lr=lr)
        self._init_code()

    def inputs(self, clip: ClipData) -> np.ndarray:
        return clip.feature("sakurai2018")

    def optimizer(self, params) -> torch.optim.Optimizer:
        return torch.optim.RMSprop(params, lr=self.lr, alpha=0.99, eps=1e-8)
