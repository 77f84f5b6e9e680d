"""The causal default model: speech -> mouth with a fixed look-ahead of 0 to 200 ms (live use).

The offline default model (:mod:`talkinghead.models.default`) sees +-1.5 s of audio
(its student front end is a centred convolution stack) and normalises its features over
the whole utterance, so it cannot run on a live stream. This model is its causal
counterpart, trained by distillation from it (:mod:`talkinghead.recipes.causal_default`,
``scripts/train_causal_default.py``; no face data):

- **Log-mel** (:func:`causal_logmel`): Whisper's 80-band log-mel (n_fft 400, hop 160,
  periodic Hann, zeros before the start), with Whisper's clamp to ``max - 8`` made causal
  (the running maximum of the frames so far). Mel frame ``j`` reads samples
  ``[160 j - 200, 160 j + 200)``.
- **Trunk**: a conv k4 stride 2 over mel frames ``2i-2 .. 2i+1`` -> ``n_blocks`` residual
  blocks ``h += conv_d(relu(h))`` whose kernel-5 dilated convolutions read only the past
  (``h[i - 4d], ..., h[i]``) -> relu. One frame every 20 ms; frame ``i`` is centred at
  ``0.02 i + 0.005`` s and has read audio up to ``0.02 i + 0.0225`` s.
- **Heads**: one linear read-out per look-ahead ``delays[k]`` (in 20 ms frames): head
  ``k`` at trunk frame ``i`` predicts the offline model's mouth z-score at frame
  ``i - delays[k]`` (so the look-ahead is ``20 ms x delays[k]`` plus the 17.5 ms the trunk
  reads past a frame's centre). There is no per-utterance normalisation: the trunk works
  on the log-mel directly, trained with speed, noise and telephone-band copies.
- **Read-out to the face** (as offline): the z-score is interpolated to the video frame
  times ``t / fps``, mapped by the offline model's calibration, gated by a causal energy
  gate (:func:`causal_gate`: frames 45 dB below the running loudest frame are silent)
  and turned into articulation, landmarks and blendshapes exactly like
  :class:`~talkinghead.models.default.DefaultModel`.

:meth:`CausalDefaultModel.zscore_offline` computes it on a whole signal;
:class:`CausalDefaultState` with :meth:`CausalDefaultModel.push` gives the same rows from
chunks of any size (``tests/models/test_causal_default.py``,
``tests/serve/test_streaming.py``). Inference is numpy only (no torch import).

Checkpoint folder: ``config.json`` (:class:`CausalDefaultConfig`, calibration, gate) and
``model.safetensors``; :meth:`CausalDefaultModel.from_pretrained`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .._util.checkpoint import PretrainedMixin
from ..audio.framing import gather_windows, hann
from ..data import DEFAULT_CAUSAL_DIR
from ..errors import CheckpointError, InvalidArgumentError

__all__ = [
    "CAUSAL_DIR",
    "CHECKPOINT_FORMAT",
    "MEL_HOP",
    "MEL_WIN",
    "CausalDefaultConfig",
    "CausalDefaultModel",
    "CausalDefaultState",
    "causal_logmel",
    "causal_gate",
    "interp_to_frames",
]

#: ``format`` of the checkpoint's ``config.json``.
CHECKPOINT_FORMAT = "talkinghead.CausalDefaultModel"
_VERSION = 1
SR = 16000
MEL_HOP = 160
MEL_WIN = 400
#: The shipped checkpoint (``talkinghead serve`` and ``streaming.load_animator`` default).
CAUSAL_DIR = DEFAULT_CAUSAL_DIR

_MEL_FB = None
_HANN = None


def _mel_fb() -> tuple[np.ndarray, np.ndarray]:
    global _MEL_FB, _HANN
    if _MEL_FB is None:
        from ..audio.logmel import slaney_mel_filterbank

        _MEL_FB = slaney_mel_filterbank(sr=SR, n_fft=MEL_WIN, n_mels=80).astype(np.float64)
        _HANN = hann(MEL_WIN)
    return _MEL_FB, _HANN


def _mel_rows(windows: np.ndarray) -> np.ndarray:
    """(k, 400) sample windows -> (k, 80) log10 mel power (before the clamp)."""
    fb, hann = _mel_fb()
    spec = np.fft.rfft(windows * hann, n=MEL_WIN, axis=1)
    power = spec.real**2 + spec.imag**2
    return np.log10(np.maximum(power @ fb.T, 1e-10))


def _clamp(m: np.ndarray, running_max: float) -> tuple[np.ndarray, float]:
    """Causal Whisper clamp of log-mel rows (k, 80); returns scaled rows and the new max."""
    if len(m) == 0:
        return np.zeros((0, m.shape[1]), np.float32), running_max
    cm = np.maximum.accumulate(np.concatenate([[running_max], m.max(axis=1)]))[1:]
    out = (np.maximum(m, cm[:, None] - 8.0) + 4.0) / 4.0
    return out.astype(np.float32), float(cm[-1])


def causal_logmel(y: np.ndarray) -> np.ndarray:
    """Causal Whisper log-mel of 16 kHz samples, shape (80, len(y) // 160), float32.

    Frame ``j``: the periodic-Hann window of samples ``[160 j - 200, 160 j + 200)`` (zeros
    outside the signal), 80 Slaney mel bands of its power, ``log10`` (floor 1e-10),
    clamped to the running maximum of the frames ``<= j`` minus 8, then ``(x + 4) / 4``.
    """
    y = np.asarray(y, np.float64).reshape(-1)
    n = len(y) // MEL_HOP
    starts = np.arange(n) * MEL_HOP - MEL_WIN // 2
    m = _mel_rows(gather_windows(y, starts, MEL_WIN)) if n else np.zeros((0, 80))
    return _clamp(m, -np.inf)[0].T


def causal_gate(
    db: np.ndarray,
    *,
    threshold_db: float = -45.0,
    ramp_frames: int = 2,
    ref_floor_db: float | None = None,
):
    """Causal speech gate of frame levels ``db`` (T,): 1 in speech, 0 in silence.

    A frame is silent more than ``-threshold_db`` dB below the loudest frame so far, or with
    ``ref_floor_db`` (dB of full scale) below ``max(loudest so far, ref_floor_db)``: a prior
    speech level, so that the quiet lead-in of a stream is silent before its first word
    sets the reference; the gate is ``min(1, 2 x mean(speech over the last ramp_frames
    frames))``.
    """
    db = np.asarray(db, np.float64).reshape(-1)
    ref = np.maximum.accumulate(db) if len(db) else db
    if ref_floor_db is not None:
        ref = np.maximum(ref, float(ref_floor_db))
    speech = (db >= ref + threshold_db).astype(np.float64)
    r = max(1, int(ramp_frames))
    c = np.concatenate([np.zeros(r), np.cumsum(speech)])
    mean = (c[r:] - c[:-r]) / r
    return np.clip(2.0 * mean, 0.0, 1.0)


def interp_to_frames(z: np.ndarray, t: np.ndarray, fps: float) -> np.ndarray:
    """Values of 50 Hz rows ``z`` (frame ``i`` at ``0.02 i + 0.005`` s) at video frames ``t``.

    Linear between the two neighbouring rows (row 0 before it, clamped at the end).
    Row ``lo + 1`` of :func:`interp_index` must exist.
    """
    lo, w = interp_index(t, fps)
    n = len(z)
    a = z[np.clip(lo, 0, n - 1)]
    b = z[np.clip(lo + 1, 0, n - 1)]
    return (1.0 - w) * a + w * b


def interp_index(t, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(lower 50 Hz row, weight) of video frames ``t`` at ``fps``; before row 0 the weight
    puts everything on row 0."""
    pos = (np.asarray(t, np.float64) / float(fps) - 0.005) * 50.0
    lo = np.floor(pos).astype(np.int64)
    w = pos - lo
    w = np.where(lo < 0, 1.0, w)
    lo = np.maximum(lo, -1)
    return lo, w


@dataclass
class CausalDefaultConfig:
    """Architecture and read-out of :class:`CausalDefaultModel`.

    Attributes
    ----------
    n_mels : int
    channels : int
    dilations : list of int
        One causal residual block per entry (kernel 5 at 50 frames/s).
    delays : list of int
        Look-ahead of each head in 20 ms trunk frames (0 = strictly causal).
    threshold_db, ramp_frames
        The causal speech gate (:func:`causal_gate`).
    centre, spread : float
        ``jaw_open = centre + spread * z`` (as the offline model).
    """

    n_mels: int = 80
    channels: int = 128
    dilations: list[int] = field(default_factory=lambda: [1, 2, 4, 8, 16, 1, 2, 4])
    delays: list[int] = field(default_factory=lambda: list(range(11)))
    threshold_db: float = -45.0
    ramp_frames: int = 2
    centre: float = 0.08
    spread: float = 0.05

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> CausalDefaultConfig:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    @property
    def history(self) -> int:
        """Trunk frames of the past one frame depends on (the receptive field minus 1)."""
        return 1 + 4 * sum(int(d) for d in self.dilations)


def build_net(cfg: CausalDefaultConfig, feat_dim: int = 0):
    """The trunk and heads as a torch module (training); ``feat_dim`` extra outputs
    (auxiliary teacher features) come from a separate 1x1 conv ``feat``."""
    import torch
    from torch import nn

    relu = torch.nn.functional.relu

    class _Block(nn.Module):
        def __init__(self, c: int, d: int) -> None:
            super().__init__()
            self.d = d
            self.conv = nn.Conv1d(c, c, 5, dilation=d)

        def forward(self, x):
            return x + self.conv(nn.functional.pad(relu(x), (4 * self.d, 0)))

    class _Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            c = cfg.channels
            self.front = nn.Conv1d(cfg.n_mels, c, 4, stride=2)
            self.blocks = nn.Sequential(*[_Block(c, int(d)) for d in cfg.dilations])
            self.heads = nn.Conv1d(c, len(cfg.delays), 1)
            self.feat = nn.Conv1d(c, feat_dim, 1) if feat_dim else None

        def forward(self, mel):  # (B, 80, 2T) -> heads (B, H, T), feat (B, F, T) or None
            h = self.blocks(self.front(nn.functional.pad(mel, (2, 0))))
            a = relu(h)
            return self.heads(a), (None if self.feat is None else self.feat(a))

    return _Net()


def causal_blocks_batch(h, hists, wcat, biases, dilations, kernel: int) -> np.ndarray:
    """One new column per stream through residual causal blocks ``h += conv_d(relu(h))``.

    Parameters
    ----------
    h : np.ndarray, float32, shape (n, C)
        The streams' new input columns (one each).
    hists : list of list of np.ndarray
        Per stream, per block, its last ``(kernel - 1) d`` ReLU inputs (C, (kernel - 1) d),
        oldest first; replaced by the updated histories.
    wcat : list of np.ndarray, shape (C, kernel C)
        Per block the taps side by side (tap ``j`` multiplies the input ``(kernel-1-j) d``
        columns back).
    biases : list of np.ndarray, shape (C, 1)
    dilations : list of int

    Returns
    -------
    np.ndarray, float32, shape (n, C)
    """
    h = np.asarray(h, np.float32)
    n, c = h.shape
    for i, d in enumerate(dilations):
        d = int(d)
        a = np.maximum(h, 0, dtype=np.float32)
        past = np.stack([hs[i] for hs in hists])  # (n, C, (K-1) d)
        xp = np.concatenate([past, a[:, :, None]], axis=2)
        cols = xp[:, :, ::d] if d > 0 else xp  # (n, C, K): taps 0..K-1
        h = h + cols.transpose(0, 2, 1).reshape(n, kernel * c) @ wcat[i].T + biases[i][:, 0]
        keep = xp[:, :, 1:]
        for s, hs in enumerate(hists):
            hs[i] = keep[s]
    return h


class CausalDefaultState:
    """The state of one stream (:meth:`CausalDefaultModel.push`)."""

    def __init__(self, model: CausalDefaultModel) -> None:
        c = model.config.channels
        self.samples = np.zeros(0, np.float64)  # recent samples
        self.s0 = 0  # absolute index of samples[0]
        self.total = 0
        self.n_mel = 0  # mel frames computed
        self.mel_max = -np.inf
        self.mel_prev = np.zeros((model.config.n_mels, 2), np.float32)  # frames 2i-2, 2i-1
        self.mel_pending = np.zeros((model.config.n_mels, 0), np.float32)
        self.hist = [np.zeros((c, 4 * int(d)), np.float32) for d in model.config.dilations]
        self.n_trunk = 0


class CausalDefaultModel(PretrainedMixin):
    """Causal log-mel -> trunk -> look-ahead heads (see the module docstring).

    Parameters
    ----------
    config : CausalDefaultConfig
    weights : dict of str -> np.ndarray
        ``front.weight`` (C, n_mels, 4), ``front.bias``, ``blocks.{i}.conv.weight``
        (C, C, 5), ``blocks.{i}.conv.bias``, ``heads.weight`` (H, C, 1), ``heads.bias``.
    calibration : np.ndarray, shape (2, K), optional
        The offline model's quantile map of the z-score (None: identity).
    meta : dict, optional

    Checkpoints: :meth:`save_pretrained` / :meth:`from_pretrained` (default: the shipped
    :data:`CAUSAL_DIR`; :class:`~talkinghead._util.checkpoint.PretrainedMixin`).
    """

    checkpoint_format = CHECKPOINT_FORMAT
    checkpoint_version = _VERSION
    checkpoint_what = "causal default model"
    config_indent = None
    half_default = False

    def __init__(self, config: CausalDefaultConfig, weights: dict, calibration=None, meta=None):
        self.config = config
        self.weights = {k: np.asarray(v, np.float32) for k, v in weights.items()}
        c, n = config.channels, len(config.dilations)
        h = len(config.delays)
        want = {"front.weight": (c, config.n_mels, 4), "front.bias": (c,),
                "heads.weight": (h, c, 1), "heads.bias": (h,)}  # fmt: skip
        for i in range(n):
            want[f"blocks.{i}.conv.weight"] = (c, c, 5)
            want[f"blocks.{i}.conv.bias"] = (c,)
        for k, shape in want.items():
            got = self.weights[k].shape if k in self.weights else None
            if got != shape:
                raise InvalidArgumentError(f"weights[{k!r}].shape={got} must be {shape}")
        self.calibration = None if calibration is None else np.asarray(calibration, np.float64)
        self.meta = dict(meta or {})
        w = self.weights
        self._front = w["front.weight"].reshape(c, -1)  # (C, n_mels * 4), column = band*4 + tap
        self._taps = [
            [np.ascontiguousarray(w[f"blocks.{i}.conv.weight"][:, :, j]) for j in range(5)]
            for i in range(n)
        ]
        # the five taps side by side (C, 5C): one product per block for short chunks
        self._wcat = [np.ascontiguousarray(np.concatenate(t, axis=1)) for t in self._taps]
        self._bias = [w[f"blocks.{i}.conv.bias"][:, None] for i in range(n)]
        self._heads = w["heads.weight"][:, :, 0]

    @classmethod
    def random(cls, config: CausalDefaultConfig | None = None, *, seed: int = 0):
        """A seeded random model (tests)."""
        cfg = config or CausalDefaultConfig()
        rng = np.random.default_rng(seed)
        c = cfg.channels
        w = {
            "front.weight": rng.normal(0, 0.5 / np.sqrt(cfg.n_mels * 4), (c, cfg.n_mels, 4)),
            "front.bias": rng.normal(0, 0.1, c),
            "heads.weight": rng.normal(0, 1 / np.sqrt(c), (len(cfg.delays), c, 1)),
            "heads.bias": np.zeros(len(cfg.delays)),
        }
        for i in range(len(cfg.dilations)):
            w[f"blocks.{i}.conv.weight"] = rng.normal(0, 0.5 / np.sqrt(5 * c), (c, c, 5))
            w[f"blocks.{i}.conv.bias"] = rng.normal(0, 0.05, c)
        return cls(cfg, w)

    # ------------------------------------------------------------------ look-ahead
    def head_for(self, lookahead_ms: float) -> int:
        """Index of the head with the largest look-ahead <= ``lookahead_ms`` (ms)."""
        d = np.asarray(self.config.delays) * 20.0
        ok = np.flatnonzero(d <= float(lookahead_ms) + 1e-9)
        if len(ok) == 0:
            raise InvalidArgumentError(
                f"lookahead_ms={lookahead_ms} must be >= {d.min():g} for this model"
            )
        return int(ok[np.argmax(d[ok])])

    # ------------------------------------------------------------------ trunk
    def _front_cols(self, mel: np.ndarray) -> np.ndarray:
        """(n_mels, 2k + 2) mel frames (two of history first) -> front conv (C, k)."""
        k = (mel.shape[1] - 2) // 2
        cols = np.stack([mel[:, j : j + 2 * k : 2] for j in range(4)], axis=1)  # (80, 4, k)
        return self._front @ cols.reshape(-1, k) + self.weights["front.bias"][:, None]

    def _blocks(self, h: np.ndarray, hist: list[np.ndarray] | None) -> np.ndarray:
        """Residual causal blocks on (C, k); ``hist`` (per block, the last 4d relu inputs)
        is used and updated (None: zeros, offline)."""
        for i, d in enumerate(self.config.dilations):
            d = int(d)
            a = np.maximum(h, 0, dtype=np.float32)
            past = np.zeros((h.shape[0], 4 * d), np.float32) if hist is None else hist[i]
            xp = np.concatenate([past, a], axis=1)
            k = h.shape[1]
            if k <= 4:  # streaming: stack the five shifted columns, one product
                cols = np.concatenate([xp[:, j * d : j * d + k] for j in range(5)], axis=0)
                out = self._wcat[i] @ cols
            else:
                taps = self._taps[i]
                out = taps[0] @ xp[:, :k]
                for j in range(1, 5):
                    out += taps[j] @ xp[:, j * d : j * d + k]
            h = h + out + self._bias[i]
            if hist is not None:
                hist[i] = xp[:, xp.shape[1] - 4 * d :]
        return h

    def _heads_of(self, h: np.ndarray, features: bool = False) -> np.ndarray:
        a = np.maximum(h, 0, dtype=np.float32)
        heads = (self._heads @ a + self.weights["heads.bias"][:, None]).T  # (k, H)
        if not features:
            return heads
        return np.concatenate([a.T, heads], axis=1)  # (k, C + H)

    def trunk_offline(self, mel: np.ndarray, *, features: bool = False) -> np.ndarray:
        """Head outputs of a whole log-mel (n_mels, T): shape (T // 2, n_heads), float32.

        With ``features``, each row is the trunk's ReLU activations (C) followed by the
        heads: shape (T // 2, C + n_heads).
        """
        mel = np.asarray(mel, np.float32)
        mel = np.concatenate([np.zeros((mel.shape[0], 2), np.float32), mel], axis=1)
        h = self._front_cols(mel[:, : 2 + 2 * ((mel.shape[1] - 2) // 2)])
        return self._heads_of(self._blocks(h, None), features).astype(np.float32)

    # ------------------------------------------------------------------ offline
    def pad_samples(self, head: int) -> int:
        """Zero samples appended at the end of a signal so that every frame's head output
        exists (the stream's end pads the same)."""
        return MEL_HOP * 2 * (int(self.config.delays[head]) + 2) + MEL_WIN

    def zscore_offline(self, y: np.ndarray, head: int) -> np.ndarray:
        """Head ``head``'s z-score per 50 Hz frame ``i`` (the estimate of the offline model's
        frame ``i``) for 16 kHz ``y`` followed by :meth:`pad_samples` zeros, shape (n50,)."""
        y = np.concatenate([np.asarray(y, np.float64), np.zeros(self.pad_samples(head))])
        z = self.trunk_offline(causal_logmel(y))[:, head]
        return z[int(self.config.delays[head]) :]

    # ------------------------------------------------------------------ streaming
    def new_state(self) -> CausalDefaultState:
        return CausalDefaultState(self)

    def push(
        self, st: CausalDefaultState, y: np.ndarray, *, end: bool = False, features: bool = False
    ) -> np.ndarray:
        """Add 16 kHz samples to a stream; returns the new trunk frames' heads (k, H)
        (with ``features``: ReLU activations and heads, (k, C + H), as
        :meth:`trunk_offline`).

        With ``end``, ``y`` should already hold the final zero padding; every remaining
        mel frame is then computed (zeros past the end).
        """
        y = np.asarray(y, np.float64).reshape(-1)
        if len(y):
            st.samples = np.concatenate([st.samples, y])
            st.total += len(y)
        # mel frame j needs samples up to 160 j + 200 (exclusive) and j < total // 160
        n_avail = st.total // MEL_HOP
        if not end:
            n_avail = min(n_avail, max(0, (st.total - MEL_WIN // 2) // MEL_HOP + 1))
        j = np.arange(st.n_mel, n_avail)
        if len(j):
            win = gather_windows(st.samples, j * MEL_HOP - MEL_WIN // 2 - st.s0, MEL_WIN)
            m, st.mel_max = _clamp(_mel_rows(win), st.mel_max)
            st.n_mel = n_avail
            st.mel_pending = np.concatenate([st.mel_pending, m.T], axis=1)
            drop = max(0, st.n_mel * MEL_HOP - MEL_WIN // 2 - st.s0)
            st.samples = st.samples[drop:]
            st.s0 += drop
        k = st.mel_pending.shape[1] // 2
        if k == 0:
            width = len(self.config.delays) + (self.config.channels if features else 0)
            return np.zeros((0, width), np.float32)
        mel = np.concatenate([st.mel_prev, st.mel_pending[:, : 2 * k]], axis=1)
        st.mel_prev = mel[:, -2:]
        st.mel_pending = st.mel_pending[:, 2 * k :]
        h = self._front_cols(mel)
        st.n_trunk += k
        return self._heads_of(self._blocks(h, st.hist), features).astype(np.float32)

    def push_many(self, states, ys, *, features: bool = False) -> list[np.ndarray]:
        """:meth:`push` for several streams of this model at once (not at their end): the
        same rows per stream, with one FFT, one front-end product and, per new trunk row
        position, one product per block for all the streams together.

        Parameters
        ----------
        states : list of CausalDefaultState
        ys : list of np.ndarray
            New 16 kHz samples per stream.

        Returns
        -------
        list of np.ndarray, float32, shape (k_s, H) or (k_s, C + H)
        """
        wins, counts = [], []
        for st, y in zip(states, ys, strict=True):
            y = np.asarray(y, np.float64).reshape(-1)
            if len(y):
                st.samples = np.concatenate([st.samples, y])
                st.total += len(y)
            n_avail = min(st.total // MEL_HOP, max(0, (st.total - MEL_WIN // 2) // MEL_HOP + 1))
            j = np.arange(st.n_mel, n_avail)
            counts.append(len(j))
            if len(j):
                wins.append(gather_windows(st.samples, j * MEL_HOP - MEL_WIN // 2 - st.s0,
                                           MEL_WIN))  # fmt: skip
        mel_all = _mel_rows(np.concatenate(wins)) if wins else None
        cols, ks, i0 = [], [], 0
        for st, n in zip(states, counts, strict=True):
            if n:
                m, st.mel_max = _clamp(mel_all[i0 : i0 + n], st.mel_max)
                i0 += n
                st.n_mel += n
                st.mel_pending = np.concatenate([st.mel_pending, m.T], axis=1)
                drop = max(0, st.n_mel * MEL_HOP - MEL_WIN // 2 - st.s0)
                st.samples = st.samples[drop:]
                st.s0 += drop
            k = st.mel_pending.shape[1] // 2
            ks.append(k)
            if k:
                mel = np.concatenate([st.mel_prev, st.mel_pending[:, : 2 * k]], axis=1)
                st.mel_prev = mel[:, -2:]
                st.mel_pending = st.mel_pending[:, 2 * k :]
                st.n_trunk += k
                cols.append(np.stack([mel[:, j : j + 2 * k : 2] for j in range(4)],
                                     axis=1).reshape(-1, k))  # fmt: skip
        width = len(self.config.delays) + (self.config.channels if features else 0)
        out = [np.zeros((0, width), np.float32) for _ in states]
        if not cols:
            return out
        h_all = self._front @ np.concatenate(cols, axis=1) + self.weights["front.bias"][:, None]
        # per stream its columns, in order; rows of equal position go through together
        owners = [s for s, k in enumerate(ks) for _ in range(k)]
        pos = [r for k in ks for r in range(k)]
        h_out = np.empty_like(h_all)
        for r in range(max(ks)):
            idx = [c for c in range(len(owners)) if pos[c] == r]
            h = h_all[:, idx].T  # (n, C)
            hists = [states[owners[c]].hist for c in idx]
            h_out[:, idx] = causal_blocks_batch(h, hists, self._wcat, self._bias,
                                                self.config.dilations, 5).T  # fmt: skip
        rows = self._heads_of(h_out, features).astype(np.float32)
        c0 = 0
        for s, k in enumerate(ks):
            out[s] = rows[c0 : c0 + k]
            c0 += k
        return out

    # ------------------------------------------------------------------ persistence
    def _checkpoint_tensors(self, half: bool) -> dict:
        dt = np.float16 if half else np.float32
        return {k: np.ascontiguousarray(v, dtype=dt) for k, v in self.weights.items()}

    def _checkpoint_config(self) -> dict:
        return {
            "config": self.config.to_dict(),
            "calibration": None if self.calibration is None else self.calibration.tolist(),
            "meta": self.meta,
        }

    @classmethod
    def _default_checkpoint(cls) -> Path:
        return CAUSAL_DIR

    @classmethod
    def _from_checkpoint(cls, directory: Path, cfg: dict, weights: dict) -> CausalDefaultModel:
        try:
            return cls(CausalDefaultConfig.from_dict(cfg["config"]), weights,
                       cfg.get("calibration"), cfg.get("meta"))  # fmt: skip
        except (KeyError, TypeError, InvalidArgumentError) as e:
            raise CheckpointError(f"path='{directory}' holds an inconsistent model: {e}") from e
