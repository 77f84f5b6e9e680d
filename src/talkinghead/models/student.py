"""A small convolutional student of the Whisper tiny.en encoder (the fast default front end).

The default model reads the mouth out of Whisper tiny.en encoder features
(:mod:`talkinghead.models.default`). The encoder costs ~0.5 s per minute of speech on two
CPU cores. This student predicts the same 384 features from the same 80-band log-mel
spectrogram with a dilated 1-D convolution stack (~1 M parameters, ~25 ms per minute):

    log-mel (B, 80, T) -> conv k4 s2 -> (B, C, T/2) -> n_blocks x [GELU, dilated conv k5,
    residual] -> GELU -> conv 1x1 -> (B, 384, T/2)

Output frame ``i`` is centred at ``0.02 i + 0.005`` s, like the encoder's. The receptive
field is +-(1 + 2 * sum(dilations)) frames of 20 ms (+-0.64 s with the defaults); the
network sees no further context, so unlike Whisper it could run causally with a
fixed look-ahead.

Trained by distillation (:mod:`talkinghead.recipes.student`): MSE to the encoder's
features, standardised over the training audio. No face data is used, so leave-one-speaker-out
scores of the read-out on top stay honest.

Checkpoint folder: ``config.json`` (:class:`StudentConfig` + feature mean/scale metadata)
and ``model.safetensors``; :meth:`SpeechStudent.from_pretrained`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .._util.checkpoint import read_checkpoint_config
from ..errors import CheckpointError, InvalidArgumentError

__all__ = ["StudentConfig", "SpeechStudent", "student_features"]

_FORMAT = "talkinghead.SpeechStudent"
_VERSION = 1


@dataclass
class StudentConfig:
    """Architecture of :class:`SpeechStudent`.

    Attributes
    ----------
    n_mels : int
        Input bands (Whisper's 80).
    channels : int
        Width of the convolution stack.
    dilations : list of int
        One residual block per entry (kernel 5, this dilation, at 50 frames/s).
    out_dim : int
        Output features (Whisper tiny: 384).
    aux_dim : int
        Extra outputs trained on auxiliary targets (e.g. a teacher's mouth openness),
        read with ``encode(..., with_aux=True)``.
    """

    n_mels: int = 80
    channels: int = 192
    dilations: list[int] = field(default_factory=lambda: [1, 2, 4, 8, 1])
    out_dim: int = 384
    aux_dim: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> StudentConfig:
        return cls(
            **{k: d[k] for k in ("n_mels", "channels", "dilations", "out_dim", "aux_dim") if k in d}
        )


def _build(cfg: StudentConfig):
    import torch
    from torch import nn

    class _Block(nn.Module):
        def __init__(self, c: int, d: int) -> None:
            super().__init__()
            self.conv = nn.Conv1d(c, c, 5, dilation=d, padding=2 * d)

        def forward(self, x):  # (B, C, T) -> (B, C, T)
            return x + self.conv(torch.nn.functional.gelu(x))

    class _Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            c = cfg.channels
            self.front = nn.Conv1d(cfg.n_mels, c, 4, stride=2, padding=1)  # (B,80,T)->(B,C,T/2)
            self.blocks = nn.Sequential(*[_Block(c, int(d)) for d in cfg.dilations])
            self.out = nn.Conv1d(c, cfg.out_dim + cfg.aux_dim, 1)  # (B,C,T/2)->(B,384+A,T/2)

        def forward(self, mel):  # mel: (B, n_mels, T) -> (B, out_dim + aux_dim, T // 2)
            h = self.blocks(self.front(mel))
            return self.out(torch.nn.functional.gelu(h))

    return _Net()


class SpeechStudent:
    """The network plus the feature standardisation it was trained with.

    Parameters
    ----------
    config : StudentConfig
    feature_mean, feature_scale : np.ndarray, shape (out_dim,)
        The network predicts ``(features - mean) / scale``; :meth:`encode` undoes it.
    net : torch.nn.Module, optional
        Built from ``config`` when omitted (random weights).
    meta : dict, optional
    """

    def __init__(self, config: StudentConfig, feature_mean, feature_scale, net=None, meta=None):
        self.config = config
        self.feature_mean = np.asarray(feature_mean, np.float32).reshape(-1)
        self.feature_scale = np.asarray(feature_scale, np.float32).reshape(-1)
        if self.feature_mean.size != config.out_dim or self.feature_scale.size != config.out_dim:
            raise InvalidArgumentError(
                f"feature_mean.size={self.feature_mean.size} must equal out_dim={config.out_dim}"
            )
        self.net = _build(config) if net is None else net
        self.meta = dict(meta or {})

    def encode(self, mel: np.ndarray, *, with_aux: bool = False):
        """Log-mel ``(n_mels, T)`` -> features ``(T // 2, out_dim)`` (float32, 50 per second).

        With ``with_aux`` also the auxiliary outputs ``(T // 2, aux_dim)``.
        """
        import torch

        mel = np.asarray(mel, np.float32)
        if mel.ndim != 2 or mel.shape[0] != self.config.n_mels:
            raise InvalidArgumentError(f"mel.shape={mel.shape} must be ({self.config.n_mels}, T)")
        if mel.shape[1] < 2:
            mel = np.pad(mel, ((0, 0), (0, 2 - mel.shape[1])), mode="edge")
        self.net.eval()
        with torch.inference_mode():
            out = self.net(torch.from_numpy(mel)[None])[0].numpy().T
        d = self.config.out_dim
        feats = out[:, :d] * self.feature_scale + self.feature_mean
        return (feats, out[:, d:]) if with_aux else feats

    # ------------------------------------------------------------------ persistence
    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write ``config.json`` + ``model.safetensors`` atomically; returns the folder."""
        from safetensors.torch import save_file

        from .._util.atomic import atomic_path, write_text_atomic

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().contiguous() for k, v in self.net.state_dict().items()}
        with atomic_path(directory / "model.safetensors") as tmp:
            save_file(state, str(tmp))
        cfg = {
            "format": _FORMAT,
            "version": _VERSION,
            "config": self.config.to_dict(),
            "feature_mean": [float(v) for v in self.feature_mean],
            "feature_scale": [float(v) for v in self.feature_scale],
            "meta": self.meta,
        }
        write_text_atomic(directory / "config.json", json.dumps(cfg) + "\n")
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike) -> SpeechStudent:
        """Load a folder written by :meth:`save_pretrained`.

        Raises
        ------
        CheckpointError
            Missing or inconsistent files (the message names the path).
        """
        import torch
        from safetensors.torch import load_file

        directory = Path(directory)
        cfg = read_checkpoint_config(directory, fmt=_FORMAT, version=_VERSION, what="student")
        try:
            config = StudentConfig.from_dict(cfg["config"])
            model = cls(config, cfg["feature_mean"], cfg["feature_scale"], meta=cfg.get("meta"))
        except (KeyError, TypeError, InvalidArgumentError) as e:
            raise CheckpointError(f"path='{directory}' holds an inconsistent config: {e}") from e
        w_path = directory / "model.safetensors"
        if not w_path.is_file():
            raise CheckpointError(f"path='{w_path}' must exist (student weights)")
        try:
            model.net.load_state_dict(load_file(str(w_path)))
        except (RuntimeError, OSError, ValueError) as e:
            raise CheckpointError(f"path='{w_path}' must match the config: {e}") from e
        torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
        return model


def student_features(
    student: SpeechStudent, *, y: np.ndarray, sr: int, fps: float, n_frames: int | None = None
) -> np.ndarray:
    """The student's Whisper-like features at the video frame times ``k / fps``.

    Same contract as :func:`talkinghead.models.default.whisper_encoder_features`.

    Returns
    -------
    np.ndarray, float32, shape (n_frames, out_dim)
    """
    from .default import WHISPER_SR, frames_to_fps, to_16k, whisper_logmel

    y, fps, n_frames = to_16k(y=y, sr=sr, fps=fps, n_frames=n_frames)
    enc = student.encode(whisper_logmel(y=y, sr=WHISPER_SR))
    return frames_to_fps(enc, n_samples=len(y), fps=fps, n_frames=n_frames)
