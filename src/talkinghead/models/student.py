"""A small convolutional student of the Whisper tiny.en encoder (the fast default front end).

The default model reads the mouth out of Whisper tiny.en encoder features
(:mod:`talkinghead.models.default`). The encoder costs ~0.5 s per minute of speech on two
CPU cores. This student predicts the same 384 features from the same 80-band log-mel
spectrogram with a dilated 1-D convolution stack (~1.5 M parameters, ~50 ms per minute in numpy):

    log-mel (B, 80, T) -> conv k4 s2 -> (B, C, T/2) -> n_blocks x [ReLU, dilated conv k5,
    residual] -> ReLU -> conv 1x1 -> (B, 384 + aux, T/2)

Output frame ``i`` is centred at ``0.02 i + 0.005`` s, like the encoder's. The receptive
field is +-(1 + 2 * sum(dilations)) frames of 20 ms (+-77 frames, +-1.54 s with the defaults); the
network sees no further context, so unlike Whisper it could run causally with a
fixed look-ahead.

Trained by distillation (:mod:`talkinghead.recipes.student`): MSE to the encoder's
features, standardised over the training audio. No face data is used, so leave-one-speaker-out
scores of the read-out on top stay honest.

Checkpoint folder: ``config.json`` (:class:`StudentConfig` + feature mean/scale metadata)
and ``model.safetensors``; :meth:`SpeechStudent.from_pretrained`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .._util.checkpoint import PretrainedMixin, TorchTwinMixin
from .._util.winograd import relu_stack, transform_kernels
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
    activation : {"relu", "gelu"}
        ReLU is ~10x cheaper than the exact GELU in numpy inference.
    """

    n_mels: int = 80
    channels: int = 192
    dilations: list[int] = field(default_factory=lambda: [1, 2, 4, 8, 16, 1, 2, 4])
    out_dim: int = 384
    aux_dim: int = 0
    activation: str = "relu"

    def __post_init__(self) -> None:
        if self.activation not in ("relu", "gelu"):
            raise InvalidArgumentError(f"activation={self.activation!r} must be 'relu' or 'gelu'")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> StudentConfig:
        keys = ("n_mels", "channels", "dilations", "out_dim", "aux_dim", "activation")
        return cls(**{"activation": "gelu", **{k: d[k] for k in keys if k in d}})


def _build(cfg: StudentConfig):
    import torch
    from torch import nn

    act = torch.nn.functional.relu if cfg.activation == "relu" else torch.nn.functional.gelu

    class _Block(nn.Module):
        def __init__(self, c: int, d: int) -> None:
            super().__init__()
            self.conv = nn.Conv1d(c, c, 5, dilation=d, padding=2 * d)

        def forward(self, x):  # (B, C, T) -> (B, C, T)
            return x + self.conv(act(x))

    class _Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            c = cfg.channels
            self.front = nn.Conv1d(cfg.n_mels, c, 4, stride=2, padding=1)  # (B,80,T)->(B,C,T/2)
            self.blocks = nn.Sequential(*[_Block(c, int(d)) for d in cfg.dilations])
            self.out = nn.Conv1d(c, cfg.out_dim + cfg.aux_dim, 1)  # (B,C,T/2)->(B,384+A,T/2)

        def forward(self, mel):  # mel: (B, n_mels, T) -> (B, out_dim + aux_dim, T // 2)
            h = self.blocks(self.front(mel))
            return self.out(act(h))

    return _Net()


class SpeechStudent(TorchTwinMixin, PretrainedMixin):
    """The network plus the feature standardisation it was trained with.

    Inference runs in numpy (:meth:`encode`: im2col + BLAS matrix products, no torch
    import, so the model loads in milliseconds); :attr:`net`, the same network as a
    torch module, is built on first use for training.

    Parameters
    ----------
    config : StudentConfig
    feature_mean, feature_scale : np.ndarray, shape (out_dim,)
        The network predicts ``(features - mean) / scale``; :meth:`encode` undoes it.
    weights : dict of str -> np.ndarray, optional
        The torch module's ``state_dict`` as float32 arrays (None: random, from torch).
    meta : dict, optional

    Checkpoints: :meth:`save_pretrained` / :meth:`from_pretrained`
    (:class:`~talkinghead._util.checkpoint.PretrainedMixin`; float16 weights by default,
    loaded numpy only: no torch import).
    """

    checkpoint_format = _FORMAT
    checkpoint_version = _VERSION
    checkpoint_what = "student"
    weights_what = "student weights"
    config_indent = None
    half_default = True

    def __init__(self, config: StudentConfig, feature_mean, feature_scale, weights=None, meta=None):
        self.config = config
        self.feature_mean = np.asarray(feature_mean, np.float32).reshape(-1)
        self.feature_scale = np.asarray(feature_scale, np.float32).reshape(-1)
        if self.feature_mean.size != config.out_dim or self.feature_scale.size != config.out_dim:
            raise InvalidArgumentError(
                f"feature_mean.size={self.feature_mean.size} must equal out_dim={config.out_dim}"
            )
        self._net = None
        self._fast = None  # (weights, fast_weights(...)), built on first encode
        if weights is None:
            self._net = _build(config)
            self.pull_weights()
        else:
            self.weights = {k: np.asarray(v, np.float32) for k, v in weights.items()}
            self._check_weights()
        self.meta = dict(meta or {})

    def _check_weights(self) -> None:
        c, n = self.config.channels, len(self.config.dilations)
        want = {"front.weight": (c, self.config.n_mels, 4), "front.bias": (c,),
                "out.weight": (self.config.out_dim + self.config.aux_dim, c, 1)}  # fmt: skip
        for i in range(n):
            want[f"blocks.{i}.conv.weight"] = (c, c, 5)
        for k, shape in want.items():
            if k not in self.weights or self.weights[k].shape != shape:
                got = None if k not in self.weights else self.weights[k].shape
                raise InvalidArgumentError(f"weights[{k!r}].shape={got} must be {shape}")

    def _build_net(self):
        return _build(self.config)

    def encode(self, mel: np.ndarray, *, with_aux: bool = False):
        """Log-mel ``(n_mels, T)`` -> features ``(T // 2, out_dim)`` (float32, 50 per second).

        With ``with_aux`` also the auxiliary outputs ``(T // 2, aux_dim)``.
        """
        mel = np.asarray(mel, np.float32)
        if mel.ndim != 2 or mel.shape[0] != self.config.n_mels:
            raise InvalidArgumentError(f"mel.shape={mel.shape} must be ({self.config.n_mels}, T)")
        if mel.shape[1] < 2:
            mel = np.pad(mel, ((0, 0), (0, 2 - mel.shape[1])), mode="edge")
        if self.config.activation == "relu":
            if getattr(self, "_fast", None) is None or self._fast[0] is not self.weights:
                self._fast = (self.weights, fast_weights(self.weights, self.config))
            out = forward_fast(self._fast[1], self.config, mel)  # (T//2, out+aux)
        else:
            out = _forward_numpy(self.weights, self.config, mel).T
        d = self.config.out_dim
        feats = out[:, :d] * self.feature_scale + self.feature_mean
        return (feats, out[:, d:]) if with_aux else feats

    # ------------------------------------------------------------------ persistence
    def _checkpoint_tensors(self, half: bool) -> dict:
        # half: float16 weights (half the size; inference runs in float32 after loading;
        # measured on the shipped student: features move by < 1 % of their spread, the
        # read-out's mouth by < 1e-4)
        if self._net is not None:
            self.pull_weights()
        dt = np.float16 if half else np.float32
        return {k: np.ascontiguousarray(v, dtype=dt) for k, v in self.weights.items()}

    def _checkpoint_config(self) -> dict:
        return {
            "config": self.config.to_dict(),
            "feature_mean": [float(v) for v in self.feature_mean],
            "feature_scale": [float(v) for v in self.feature_scale],
            "meta": self.meta,
        }

    @classmethod
    def _from_checkpoint(cls, directory: Path, cfg: dict, weights: dict) -> SpeechStudent:
        try:
            config = StudentConfig.from_dict(cfg["config"])
            return cls(config, cfg["feature_mean"], cfg["feature_scale"], weights=weights,
                       meta=cfg.get("meta"))  # fmt: skip
        except (KeyError, TypeError, InvalidArgumentError) as e:
            raise CheckpointError(f"path='{directory}' holds an inconsistent model: {e}") from e


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x * np.float32(0.7071067811865476)))


def _conv(x: np.ndarray, w, b: np.ndarray, *, dilation: int = 1) -> np.ndarray:
    """'Same' 1-D convolution of (C_in, T) with an odd kernel: (C_out, C_in, K) -> (C_out, T).

    ``w`` is the (C_out, C_in, K) weight or its K contiguous (C_out, C_in) taps. One matrix
    product per tap on a shifted view (no im2col copy)."""
    taps = w if isinstance(w, list) else [w[:, :, j] for j in range(w.shape[2])]
    k = len(taps)
    pad = dilation * (k - 1) // 2
    xp = np.pad(x, ((0, 0), (pad, pad)))
    T = x.shape[1]
    out = taps[0] @ xp[:, :T]
    for j in range(1, k):
        out += taps[j] @ xp[:, j * dilation : j * dilation + T]
    out += b[:, None]
    return out


def _forward_numpy(wts: dict, cfg: StudentConfig, mel: np.ndarray, taps=None) -> np.ndarray:
    """The network of :func:`_build` in numpy: (n_mels, T) -> (out_dim + aux_dim, T // 2).

    ``taps``: optional {block index: list of contiguous per-tap weight matrices}."""
    T = mel.shape[1]
    n = (T + 2 - 4) // 2 + 1  # conv k4 s2 p1
    xp = np.pad(mel, ((0, 0), (1, 1)))
    cols = np.stack([xp[:, j : j + 2 * n : 2][:, :n] for j in range(4)], axis=1)  # (80, 4, n)
    w = wts["front.weight"]
    h = w.reshape(w.shape[0], -1) @ cols.reshape(-1, n) + wts["front.bias"][:, None]
    if cfg.activation == "gelu":
        for i, d in enumerate(cfg.dilations):
            w = taps.get(i) if taps is not None else None
            if w is None:
                w = wts[f"blocks.{i}.conv.weight"]
            h = h + _conv(_gelu(h), w, wts[f"blocks.{i}.conv.bias"], dilation=int(d))
        w = wts["out.weight"]
        return (w[:, :, 0] @ _gelu(h) + wts["out.bias"][:, None]).astype(np.float32)
    # ReLU (the shipped students): the same products as _conv on relu(h), without a padded
    # copy, an activation array and a product array per tap (fewer fresh pages: a cold
    # process pays for each)
    h = np.asarray(h, np.float32)
    pad = max(int(d) for d in cfg.dilations) * 2  # kernel 5: 2 * dilation each side
    buf = np.zeros((h.shape[0], n + 2 * pad), np.float32)  # zero margins stay zero
    a = buf[:, pad : pad + n]
    prod = np.empty_like(h)
    for i, d in enumerate(cfg.dilations):
        w = taps.get(i) if taps is not None else None
        if w is None:
            w = wts[f"blocks.{i}.conv.weight"]
        ts = w if isinstance(w, list) else [w[:, :, j] for j in range(w.shape[2])]
        np.maximum(h, 0, out=a)
        d = int(d)
        off = pad - d * (len(ts) - 1) // 2
        out = np.matmul(ts[0], buf[:, off : off + n])
        for j in range(1, len(ts)):
            np.matmul(ts[j], buf[:, off + j * d : off + j * d + n], out=prod)
            out += prod
        out += wts[f"blocks.{i}.conv.bias"][:, None]
        h += out
    np.maximum(h, 0, out=a)
    w = wts["out.weight"]
    return (w[:, :, 0] @ a + wts["out.bias"][:, None]).astype(np.float32)


def fast_weights(wts: dict, cfg: StudentConfig) -> dict:
    """The weights of a ReLU student laid out for :func:`forward_fast` (time-major, the
    blocks' kernels Winograd-transformed, :mod:`talkinghead._util.winograd`)."""
    c = cfg.channels
    return {
        "front": np.ascontiguousarray(wts["front.weight"].reshape(c, -1).T),  # (n_mels*4, C)
        "front.bias": np.asarray(wts["front.bias"], np.float32),
        "blocks": [
            transform_kernels(wts[f"blocks.{i}.conv.weight"]) for i in range(len(cfg.dilations))
        ],  # fmt: skip
        "biases": [
            np.asarray(wts[f"blocks.{i}.conv.bias"], np.float32)[None]
            for i in range(len(cfg.dilations))
        ],  # fmt: skip
        "out": np.ascontiguousarray(wts["out.weight"][:, :, 0].T),  # (C, out + aux)
        "out.bias": np.asarray(wts["out.bias"], np.float32),
    }


def forward_fast(fw: dict, cfg: StudentConfig, mel: np.ndarray) -> np.ndarray:
    """The ReLU network of :func:`_build`, time-major: (n_mels, T) -> (T // 2, out + aux).

    Same outputs as :func:`_forward_numpy` up to float32 rounding (the blocks run
    :func:`talkinghead._util.winograd.relu_stack`: 2.5x fewer multiply-adds); ``fw`` is
    :func:`fast_weights`."""
    T = mel.shape[1]
    n = (T + 2 - 4) // 2 + 1  # conv k4 s2 p1
    xp = np.pad(mel, ((0, 0), (1, 1)))
    cols = np.stack([xp[:, j : j + 2 * n : 2][:, :n] for j in range(4)], axis=1)  # (80, 4, n)
    h = cols.reshape(-1, n).T @ fw["front"]  # (n, C)
    h += fw["front.bias"]
    a = relu_stack(h[None], fw["blocks"], fw["biases"], cfg.dilations, kernel=5)[0]
    out = a @ fw["out"]
    out += fw["out.bias"]
    return out


def student_features(
    student: SpeechStudent, *, y: np.ndarray, sr: int, fps: float, n_frames: int | None = None
) -> np.ndarray:
    """The student's Whisper-like features at the video frame times ``k / fps``.

    Same contract as :func:`talkinghead.audio.whisper.whisper_encoder_features`.

    Returns
    -------
    np.ndarray, float32, shape (n_frames, out_dim)
    """
    from ..audio.whisper import WHISPER_SR, frames_to_fps, to_16k, whisper_logmel

    y, fps, n_frames = to_16k(y=y, sr=sr, fps=fps, n_frames=n_frames)
    enc = student.encode(whisper_logmel(y=y, sr=WHISPER_SR))
    return frames_to_fps(enc, n_samples=len(y), fps=fps, n_frames=n_frames)
