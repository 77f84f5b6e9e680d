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

from ..face.landmarks68 import eye_centres_68
from ..training.data import ClipData
from ._shape import fill_invalid
from .base import Recipe

__all__ = ["Eskimez2018", "pin_eyes"]

#: Where the eye centres of the first frame are pinned (subject's right eye first).
EYE_POINTS = np.array([[-0.5, 0.0], [0.5, 0.0]])


def pin_eyes(lm: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Move all frames by the similarity that pins the first valid frame's eyes.

    Parameters
    ----------
    lm : np.ndarray, shape (T, 68, 2)
    valid : np.ndarray, bool, shape (T,)

    Returns
    -------
    np.ndarray, float64, shape (T, 68, 2)
    """
    lm = np.asarray(lm, dtype=np.float64)
    first = int(np.argmax(valid)) if np.any(valid) else 0
    e = eye_centres_68(lm[first])  # (2, 2)
    src = (e[1, 0] - e[0, 0]) + 1j * (e[1, 1] - e[0, 1])
    dst = (EYE_POINTS[1, 0] - EYE_POINTS[0, 0]) + 1j * (EYE_POINTS[1, 1] - EYE_POINTS[0, 1])
    s = dst / src if abs(src) > 0 else 1.0
    z = (lm[..., 0] - e[0, 0]) + 1j * (lm[..., 1] - e[0, 1])
    w = s * z + (EYE_POINTS[0, 0] + 1j * EYE_POINTS[0, 1])
    return np.stack([w.real, w.imag], axis=-1)


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
        return pin_eyes(lm, valid), valid

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
