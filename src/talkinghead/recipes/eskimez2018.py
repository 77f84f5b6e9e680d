"""Eskimez et al. 2018: log-mel differences -> LSTM -> 68 normalised landmarks.

- Inputs: :func:`talkinghead.audio.features.eskimez2018` (first and second temporal
  differences of a 64-band log-mel spectrogram, 128 per frame).
- Targets: the 68 landmarks, normalised as in the paper: a similarity transform that
  pins the two eye centres of the clip's first valid frame to fixed points, applied to
  every frame; then identity removal: the clip's mean shape is replaced by the mean shape
  of the training set. Flattened to 136 values (x0, y0, x1, ...).
- Topology (the authors' code): four unidirectional LSTM layers, three of ``units``
  (256 here; a command-line parameter of their code) and one of 136, dropout 0.2 after
  each; we add a linear 136 -> 136 output layer (the authors' last LSTM emits the
  landmarks directly; their recurrent dropout has no nn.LSTM equivalent and is not used).
- Look-ahead: ``delay_ms`` (0, 40, 80 ms; 1 or 2 frames at 25 fps) shifts the targets so
  the LSTM reads that much future audio before emitting a frame.
- Optimiser: Adam, lr 1e-3; loss: MSE.
"""

from __future__ import annotations

import numpy as np

from ..face.normalize import pin_eyes
from ..training.data import ClipData
from ._shape import fill_invalid
from .base import Recipe

__all__ = ["Eskimez2018"]


class Eskimez2018(Recipe):
    """Speech -> 68 landmarks with an LSTM (see the module docstring)."""

    name = "eskimez2018"
    units = 256
    topologies = {
        "lstm4": [f"L{units}"] * 3 + ["L136"],
        "lstm3": [f"L{units}"] * 3,
    }
    default_topology = "lstm4"
    dropout = 0.2
    lr = 1e-3
    batch_size = 16
    epochs = 200
    patience = 10

    def __init__(self, *, delay_ms: float = 0.0, lr: float | None = None) -> None:
        super().__init__(delay_ms=delay_ms, lr=lr)
        self.mean_shape: np.ndarray | None = None  # (68, 2), pinned coordinates

    def inputs(self, clip: ClipData) -> np.ndarray:
        return clip.feature("eskimez2018")

    def _pinned(self, clip: ClipData) -> tuple[np.ndarray, np.ndarray]:
        valid = clip.valid
        lm = fill_invalid(clip.array("landmarks68"), valid)
        if not np.any(valid):  # no tracked frame: nothing to pin (the targets are all masked)
            return lm, valid
        return pin_eyes(lm, frame=int(np.argmax(valid)))[0], valid

    def fit(self, clips, targets) -> None:
        shapes = [self._pinned(c) for c in clips]
        self.mean_shape = np.mean(np.concatenate([p[v] for p, v in shapes if v.any()]), axis=0)

    def state(self) -> dict:
        return {"mean_shape": None if self.mean_shape is None else self.mean_shape.tolist()}

    def load_state(self, state: dict) -> None:
        ms = state.get("mean_shape")
        self.mean_shape = None if ms is None else np.asarray(ms, dtype=np.float64)

    def targets(self, clip: ClipData) -> tuple[np.ndarray, np.ndarray]:
        p, valid = self._pinned(clip)
        if self.mean_shape is not None and valid.any():
            p = p - p[valid].mean(axis=0) + self.mean_shape  # remove identity
        return p.reshape(len(p), 136).astype(np.float32), valid
