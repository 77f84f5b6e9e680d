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
  landmarks directly).
- LSTM cells as the authors' Keras code (``lstm="keras"``, default): ``activation=
  'sigmoid'`` (the cell candidate and output go through a sigmoid, not tanh), Keras 2's
  default ``recurrent_activation='hard_sigmoid'`` gates and ``recurrent_dropout=0.2``
  (:class:`~talkinghead.models.sequence.ActivationLSTM`). ``lstm="torch"``: ``nn.LSTM``
  (tanh cells, no recurrent dropout), what checkpoints trained before this option use.
- Context frames (the authors' ``train.py -c`` / ``addContext``): the input row of frame
  ``t`` is ``[x_t, x_{t-1}, ..., x_{t-c}]`` (rows before the first are the first row), so
  ``128 * (c + 1)`` values; ``context_frames=3`` by default, as the authors' shipped
  ``D40_C3`` model. Checkpoints trained before this option (no ``context_frames`` in their
  recipe state) use ``c = 0``.
- Look-ahead: ``delay_ms`` (0, 40, 80 ms; 1 or 2 frames at 25 fps) shifts the targets so
  the LSTM reads that much future audio before emitting a frame.
- Not as the authors: their dropout 0.2 is on each LSTM's input (Keras ``dropout``), ours
  on each layer's output (the same except for the audio features and the last layer).
- Optimiser: Adam, lr 1e-3; loss: MSE.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError
from ..face.normalize import pin_eyes
from ..training.data import ClipData
from .base import Recipe
from .shape import fill_invalid

__all__ = ["Eskimez2018", "add_context", "CONTEXT_FRAMES", "LSTM_CELLS"]

#: Context frames of the authors' shipped model (``D40_C3``: 40 ms delay, 3 context frames).
CONTEXT_FRAMES = 3
#: LSTM cell choices: the authors' Keras cells or nn.LSTM's.
LSTM_CELLS = {
    "keras": ("sigmoid", "hard_sigmoid", 0.2),
    "torch": ("tanh", "sigmoid", 0.0),
}


def add_context(x: np.ndarray, context_frames: int) -> np.ndarray:
    """The authors' ``addContext``: row ``t`` becomes ``[x_t, x_{t-1}, ..., x_{t-c}]``.

    Parameters
    ----------
    x : np.ndarray, shape (T, D)
    context_frames : int
        ``c >= 0``; rows before the first frame repeat the first row.

    Returns
    -------
    np.ndarray, shape (T, D * (c + 1)), same dtype
    """
    x = np.asarray(x)
    c = int(context_frames)
    if c < 0:
        raise InvalidArgumentError(f"context_frames={context_frames!r} must be >= 0")
    if c == 0 or len(x) == 0:
        return x if c == 0 else np.zeros((0, x.shape[1] * (c + 1)), x.dtype)
    idx = np.clip(np.arange(len(x))[:, None] - np.arange(c + 1)[None, :], 0, None)
    return x[idx].reshape(len(x), -1)


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

    def __init__(
        self,
        *,
        delay_ms: float = 0.0,
        lr: float | None = None,
        context_frames: int = CONTEXT_FRAMES,
        lstm: str = "keras",
    ) -> None:
        super().__init__(delay_ms=delay_ms, lr=lr)
        if lstm not in LSTM_CELLS:
            raise InvalidArgumentError(f"lstm={lstm!r} must be one of {sorted(LSTM_CELLS)}")
        self.lstm = lstm
        self.cell_activation, self.gate_activation, self.recurrent_dropout = LSTM_CELLS[lstm]
        if (
            isinstance(context_frames, bool)
            or int(context_frames) != context_frames
            or (context_frames < 0)
        ):
            raise InvalidArgumentError(f"context_frames={context_frames!r} must be an int >= 0")
        self.context_frames = int(context_frames)
        self.mean_shape: np.ndarray | None = None  # (68, 2), pinned coordinates

    def inputs(self, clip: ClipData) -> np.ndarray:
        return add_context(clip.feature("eskimez2018"), self.context_frames)

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
        return {
            "mean_shape": None if self.mean_shape is None else self.mean_shape.tolist(),
            "context_frames": self.context_frames,
            "lstm": self.lstm,
        }

    def load_state(self, state: dict) -> None:
        ms = state.get("mean_shape")
        self.mean_shape = None if ms is None else np.asarray(ms, dtype=np.float64)
        if state:  # a checkpoint's state; one saved before the option had no context
            self.context_frames = int(state.get("context_frames", 0))
            self.lstm = str(state.get("lstm", "torch"))
            if self.lstm in LSTM_CELLS:
                self.cell_activation, self.gate_activation, self.recurrent_dropout = LSTM_CELLS[
                    self.lstm
                ]

    def targets(self, clip: ClipData) -> tuple[np.ndarray, np.ndarray]:
        p, valid = self._pinned(clip)
        if self.mean_shape is not None and valid.any():
            p = p - p[valid].mean(axis=0) + self.mean_shape  # remove identity
        return p.reshape(len(p), 136).astype(np.float32), valid
