"""The Recipe interface: what a paper's training needs besides the generic trainer."""

from __future__ import annotations

import numpy as np
import torch

from ..errors import InvalidArgumentError
from ..models.sequence import HeadSpec, SequenceModelConfig, TargetTransform
from ..training.data import ClipData

__all__ = ["Recipe", "masked_mse"]


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the frames where ``mask`` is True.

    Parameters
    ----------
    pred, target : torch.Tensor, shape (B, T, K)
    mask : torch.Tensor, bool, shape (B, T)

    Returns
    -------
    torch.Tensor, scalar: ``sum(mask * (pred - target)^2) / (K * max(1, sum(mask)))``.
    """
    m = mask.to(pred.dtype).unsqueeze(-1)  # (B, T, 1)
    n = m.sum().clamp_min(1.0) * pred.shape[-1]
    return ((pred - target) ** 2 * m).sum() / n


class Recipe:
    """Base class; a paper's recipe sets the class attributes and implements the hooks.

    Class attributes
    ----------------
    name : str
    topologies : dict[str, list[str]]
        Topology name -> layer specs (see :class:`SequenceModelConfig`).
    default_topology : str
    dropout : dict[str, list[float]] or float
        Dropout per layer, per topology (or one rate for all layers).
    lr : float
    window_seconds : float
        Length of the random training windows.
    batch_size : int
    epochs : int
        Default number of epochs.
    patience : int
        Early stopping: epochs without a validation improvement.
    cell_activation, gate_activation, recurrent_dropout
        LSTM nonlinearities and recurrent dropout of the L layers (see
        :class:`~talkinghead.models.sequence.SequenceModelConfig`; default nn.LSTM's).
    """

    name = ""
    topologies: dict = {}
    default_topology = ""
    dropout: dict | float = 0.0
    lr = 1e-3
    window_seconds = 3.0
    batch_size = 16
    epochs = 100
    patience = 10
    cell_activation = "tanh"
    gate_activation = "sigmoid"
    recurrent_dropout = 0.0

    def __init__(self, *, delay_ms: float = 0.0, lr: float | None = None) -> None:
        if delay_ms < 0:
            raise InvalidArgumentError(f"delay_ms={delay_ms!r} must be >= 0")
        self.delay_ms = float(delay_ms)
        if lr is not None:
            self.lr = float(lr)

    # ------------------------------------------------------------------ data
    def inputs(self, clip: ClipData) -> np.ndarray:
        """Input features of a clip, float32, shape (T, D)."""
        raise NotImplementedError

    def targets(self, clip: ClipData) -> tuple[np.ndarray, np.ndarray]:
        """Raw targets ``(T, P)`` (decoded space) and the frames that count ``(T,)`` bool."""
        raise NotImplementedError

    def fit(self, clips: list[ClipData], targets: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Fit corpus-level statistics needed by :meth:`targets` (e.g. a mean shape).

        Called once on the training clips, before :meth:`fit_target_transform`; the
        statistics must be saved by :meth:`state` and restored by :meth:`load_state`.
        """

    def state(self) -> dict:
        """JSON-able corpus statistics (see :meth:`fit`)."""
        return {}

    def load_state(self, state: dict) -> None:
        """Restore :meth:`state`."""

    def save_files(self, directory) -> None:
        """Write corpus statistics too big for :meth:`state` into ``directory`` (a
        checkpoint folder); the trainer calls it wherever it saves a checkpoint."""

    def load_files(self, directory) -> None:
        """Read what :meth:`save_files` wrote (called after :meth:`load_state`)."""

    def fit_target_transform(self, ys: list[np.ndarray], masks: list[np.ndarray]):
        """Target coding fitted on training targets: identity-like standardisation."""
        rows = np.concatenate([y[m] for y, m in zip(ys, masks, strict=True)])
        return TargetTransform(
            mean=rows.mean(axis=0),
            scale=np.full(rows.shape[1], max(float((rows - rows.mean(axis=0)).std()), 1e-8)),
        )

    def delay_frames(self, fps: float) -> int:
        """The look-ahead in frames at ``fps``: ``round(delay_ms * fps / 1000)``."""
        return int(round(self.delay_ms * fps / 1000.0))

    # ------------------------------------------------------------------ model
    def heads(self, output_dim: int) -> list[HeadSpec]:
        return [HeadSpec("output", output_dim, "linear")]

    def model_config(
        self, topology: str | None, *, input_dim: int, output_dim: int, delay_frames: int = 0
    ) -> SequenceModelConfig:
        """The :class:`SequenceModelConfig` of ``topology`` (None: the default one)."""
        topology = topology or self.default_topology
        if topology not in self.topologies:
            raise InvalidArgumentError(
                f"topology={topology!r} must be one of {sorted(self.topologies)} "
                f"for recipe {self.name!r}"
            )
        layers = list(self.topologies[topology])
        drop = self.dropout[topology] if isinstance(self.dropout, dict) else self.dropout
        cfg = SequenceModelConfig(
            input_dim=input_dim,
            output_dim=output_dim,
            layers=layers,
            dropout=drop,
            heads=self.heads(output_dim),
            delay_frames=delay_frames,
            cell_activation=self.cell_activation,
            gate_activation=self.gate_activation,
            recurrent_dropout=self.recurrent_dropout,
        )
        if delay_frames and not cfg.is_causal:
            raise InvalidArgumentError(
                f"delay_ms={self.delay_ms} needs a unidirectional topology; "
                f"{topology!r} has BLSTM layers (they see the whole future already)"
            )
        return cfg

    # ------------------------------------------------------------------ training
    def optimizer(self, params) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=self.lr)

    def lr_factor(self, epoch: int) -> float:
        """Multiplier of :attr:`lr` during ``epoch`` (0-based); 1 by default."""
        return 1.0

    def loss(self, pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Training loss (masked MSE unless a recipe says otherwise)."""
        return masked_mse(pred, target, mask)
