"""Mouth v2: a small temporal network from speech features to the mouth's degrees of freedom.

Pipeline::

    16 kHz audio -> front end (50 frames/s): the distilled student of Whisper
      (``"student"``, :mod:`talkinghead.models.student`: its 384 features + its auxiliary
      mouth output), the Whisper tiny.en encoder
      (``"whisper"``), Whisper's 80-band log-mel itself (``"mel"``, pairs of 10 ms frames
      averaged) or the causal default model's trunk (``"causal"``,
      :mod:`talkinghead.models.causal_default`: its ReLU activations and its look-ahead
      heads; causal, for streaming: ``talkinghead serve``)
    -> per-utterance normalisation (optional; offline only) and standardisation
    -> conv 1x1 (in_dim -> C) -> n x [ReLU, dilated conv k, residual] -> ReLU -> conv 1x1
    -> per-clip z-scores of the six DOFs of :mod:`talkinghead.face.articulation`
       (opening, width, upper-lip raise, lower-lip drop, corner raise, protrusion)
    -> optional monotone calibration per DOF (quantile maps fitted on validation clips)
    -> interpolation to the video frame times ``k / fps``
    -> silence gate (every DOF to the real faces' rest value) -> articulation (T, 7)
    -> 68 landmarks (:func:`talkinghead.models.phonetic.articulation_to_landmarks`) and,
       in every 3D export, 52 ARKit weights
       (:func:`talkinghead.models.blendshape_bridge.articulation_to_blendshapes`): one
       prediction behind every output.

``lookahead`` (config): ``None`` for centred convolutions (offline); an integer ``L`` >= 0
makes every convolution causal (left padding only) and delays the output by ``L`` frames
of 20 ms, so frame ``t`` is predicted from input up to ``t + L`` (0-10 frames = 0-200 ms).
Same recipe, one config value. (A causal model also needs a causal front end: ``"causal"``;
the student and Whisper look +-1.54 s / the whole window around each frame, and ``"mel"``
clamps to the clip's loudest frame.) With ``"causal"`` and ``prior``, the prior is the
causal model's head of look-ahead ``L`` (calibrated as the offline ridge), read ``L``
frames later, where it estimates frame ``t``.

Inference is numpy only (no torch import); :attr:`MouthModel.net` builds the same network in
torch for training (:mod:`talkinghead.recipes.mouth`).

Checkpoint folder (:meth:`MouthModel.save_pretrained` / :meth:`MouthModel.from_pretrained`)::

    config.json        {"format": "talkinghead.MouthModel", "version": 1, "config": {...},
                        "dof_stats": {...}, "meta": {...}}
    model.safetensors  network weights (float16), "feature_mean", "feature_scale",
                       optional "calibration" (6, 2, K), optional ensemble members
                       "member1.<weight>", "member2.<weight>", ... (averaged outputs)
    student/           the front end, when ``frontend == "student"``
    causal/            the front end, when ``frontend == "causal"``
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .._util.checkpoint import PretrainedMixin, TorchTwinMixin
from .._util.winograd import KERNELS, relu_stack, transform_kernels
from ..data import MOUTH_V2_DIR, MOUTH_V2_WHISPER_DIR
from ..errors import CheckpointError, InvalidArgumentError, check_positive

__all__ = [
    "MouthConfig",
    "MouthModel",
    "MouthResult",
    "MOUTH_DIR",
    "close_dips",
    "MOUTH_WHISPER_DIR",
    "FRONTENDS",
    "ClosureNet",
    "closure_config",
    "CLOSURE_FRONTENDS",
    "utterance_normalize",
]

_FORMAT = "talkinghead.MouthModel"
_VERSION = 1
FRONTENDS = ("student", "whisper", "mel", "causal")
#: What the /p b m/ classifier reads (``MouthConfig.closure_frontend``).
CLOSURE_FRONTENDS = ("features", "whisper")
#: The shipped mouth model (``animate(model="default")``; docs/default_model.md).
MOUTH_DIR = MOUTH_V2_DIR
#: The same network on the Whisper tiny.en encoder (``animate(model="whisper")`` where shipped).
MOUTH_WHISPER_DIR = MOUTH_V2_WHISPER_DIR


@dataclass
class MouthConfig:
    """Architecture of :class:`MouthModel`.

    Attributes
    ----------
    frontend : {"student", "whisper", "mel"}
    in_dim : int
        Front-end features (384 + its auxiliary mouth output for the student, 384 for
        Whisper, 80 for mel, the causal model's channels + heads for causal).
    channels : int
    kernel : int
        Odd kernel size of the dilated convolutions.
    dilations : list of int
        One residual block per entry (at 50 frames/s).
    n_out : int
        Outputs (the six DOFs of :data:`talkinghead.face.articulation.DOF_NAMES`).
    lookahead : int or None
        None: centred convolutions (offline). ``L`` >= 0: causal convolutions, output
        delayed by ``L`` frames (20 ms each).
    utterance_norm : bool
        Normalise the features per utterance before the global standardisation (offline).
    dropout : float
        Dropout on the input features (training only).
    prior : bool
        Append one input channel: the z-scored mouth opening of the ridge read-out of
        :mod:`talkinghead.models.default` on the same features (stored with the model;
        its context offsets doubled for the 50 Hz frames), a prior the network refines.
    prior_blend : float
        With a prior: the predicted opening is ``(1 - prior_blend) * network + prior_blend
        * prior`` (after calibration); chosen on validation clips of the training side.
    gate_db : float
        Silence gate threshold (dB below the clip's loud frames,
        :func:`talkinghead.models.default.speech_gate`): every DOF rests there.
    gate_floor_db : float or None
        Also silent: the clip's leading and trailing frames less than this many dB above
        its noise floor (its 5th-percentile frame RMS, :func:`noise_floor_gate`), for
        recordings whose noise sits above ``gate_db``. None: off (the -45 dB gate alone).
    gate_ref_db : float or None
        Streaming only (:class:`talkinghead.streaming.MouthAnimator`, whose gate is causal,
        :func:`talkinghead.models.causal_default.causal_gate`): a prior speech level in dB of
        full scale; a frame is silent ``-gate_db`` dB below ``max(loudest frame so far,
        gate_ref_db)``. None: the loudest frame so far alone.
    close_dips : float or None
        Closure post-step (:func:`close_dips`): a dip of the predicted opening at least this
        deep (z units below the lower of its two neighbouring peaks, within
        ``close_dip_s``) is pushed down to closed lips, as /p b m/ close them. None: off.
    close_dip_s : float
        Half-window of a dip (seconds) for ``close_dips``.
    closure_gain : float or None
        Closures learned from phone labels (:class:`ClosureNet`, trained by
        :mod:`talkinghead.recipes.closure`): the lips
        close by ``c = min(1, closure_gain * p) * gate``, ``p`` the classifier's
        p(/p b m/) on the network's input rows, as a known /p b m/ segment closes them
        (``jaw_open *= 1 - c``, ``lip_close = max(lip_close, c)``: the 68 points, the
        blendshapes and every export). None or 0: off (the classifier is not run).
    closure_threshold : float
        With ``closure_gain``: ``p`` is first mapped to ``clip((p - t) / (1 - t), 0, 1)``
        (``t`` this value, in [0, 1)): frames the classifier is unsure of stay open. 0:
        ``p`` itself.
    closure_lead : int
        With ``closure_gain``: the closures come this many 50 Hz rows (20 ms each, 0-10)
        before the classifier's frames, as lips close before the acoustic /p b m/ segment
        that labelled it (the last row repeated at the end). 0: none.
    closure_frontend : {"features", "whisper"}
        What the classifier reads: ``"features"``, the network's own standardised input
        rows (no second front end); ``"whisper"``, the Whisper tiny.en encoder's frames of
        the audio (:func:`talkinghead.audio.whisper.encoder_frames`, per utterance
        normalised, then standardised with the classifier's ``in_mean`` / ``in_scale``):
        a second front end, ~0.8 s of one core per minute of speech, that hears /p b m/
        far better than the student (docs/default_model.md, "Session 12").
    closure_net : dict or None
        The classifier's architecture (:func:`closure_config`
        as a dict); its weights are ``closure.*`` in ``model.safetensors``.
    """

    frontend: str = "student"
    in_dim: int = 384
    channels: int = 64
    kernel: int = 5
    dilations: list[int] = field(default_factory=lambda: [1, 2, 4, 8, 1])
    n_out: int = 6
    lookahead: int | None = None
    utterance_norm: bool = True
    dropout: float = 0.0
    prior: bool = False
    prior_blend: float = 0.0
    gate_db: float = -45.0
    gate_floor_db: float | None = None
    gate_ref_db: float | None = None
    close_dips: float | None = None
    close_dip_s: float = 0.12
    closure_gain: float | None = None
    closure_threshold: float = 0.0
    closure_lead: int = 0
    closure_frontend: str = "features"
    closure_net: dict | None = None

    def __post_init__(self) -> None:
        if self.frontend not in FRONTENDS:
            raise InvalidArgumentError(f"frontend={self.frontend!r} must be one of {FRONTENDS}")
        if self.kernel < 1 or self.kernel % 2 == 0:
            raise InvalidArgumentError(f"kernel={self.kernel} must be an odd number >= 1")
        if self.lookahead is not None and not 0 <= int(self.lookahead) <= 50:
            raise InvalidArgumentError(f"lookahead={self.lookahead} must be None or 0..50 frames")
        self.dilations = [int(d) for d in self.dilations]
        if self.gate_floor_db is not None and not float(self.gate_floor_db) > 0:
            raise InvalidArgumentError(f"gate_floor_db={self.gate_floor_db} must be None or > 0 dB")
        if self.gate_ref_db is not None and not -120.0 <= float(self.gate_ref_db) <= 0.0:
            raise InvalidArgumentError(
                f"gate_ref_db={self.gate_ref_db} must be None or -120..0 dB of full scale"
            )
        if self.close_dips is not None and not float(self.close_dips) > 0:
            raise InvalidArgumentError(f"close_dips={self.close_dips} must be None or > 0")
        if not float(self.close_dip_s) > 0:
            raise InvalidArgumentError(f"close_dip_s={self.close_dip_s} must be > 0 s")
        if self.closure_gain is not None and not float(self.closure_gain) >= 0:
            raise InvalidArgumentError(f"closure_gain={self.closure_gain} must be None or >= 0")
        if not 0.0 <= float(self.closure_threshold) < 1.0:
            raise InvalidArgumentError(
                f"closure_threshold={self.closure_threshold} must be in [0, 1)"
            )
        if int(self.closure_lead) != self.closure_lead or not 0 <= int(self.closure_lead) <= 10:
            raise InvalidArgumentError(
                f"closure_lead={self.closure_lead} must be an integer 0..10 (20 ms rows)"
            )
        self.closure_lead = int(self.closure_lead)
        if self.closure_frontend not in CLOSURE_FRONTENDS:
            raise InvalidArgumentError(
                f"closure_frontend={self.closure_frontend!r} must be one of {CLOSURE_FRONTENDS}"
            )

    @property
    def receptive_past(self) -> int:
        """Frames of past context the convolutions see."""
        span = sum((self.kernel - 1) * d for d in self.dilations)
        return span if self.lookahead is not None else span // 2

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> MouthConfig:
        keys = [f for f in cls.__dataclass_fields__]
        return cls(**{k: d[k] for k in keys if k in d})


def build_torch(cfg: MouthConfig):
    """The network as a torch module ``(B, in_dim, T) -> (B, n_out, T)`` (training only)."""
    import torch
    from torch import nn

    causal = cfg.lookahead is not None

    class _Block(nn.Module):
        def __init__(self, c: int, d: int) -> None:
            super().__init__()
            self.pad = (cfg.kernel - 1) * d
            self.conv = nn.Conv1d(c, c, cfg.kernel, dilation=d, padding=0)

        def forward(self, x):
            p = self.pad
            xp = nn.functional.pad(torch.relu(x), (p, 0) if causal else (p // 2, p - p // 2))
            return x + self.conv(xp)

    class _Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            c = cfg.channels
            self.drop = nn.Dropout(float(cfg.dropout))
            self.inp = nn.Conv1d(cfg.in_dim, c, 1)
            self.blocks = nn.Sequential(*[_Block(c, d) for d in cfg.dilations])
            self.out = nn.Conv1d(c, cfg.n_out, 1)

        def forward(self, x):
            return self.out(torch.relu(self.blocks(self.inp(self.drop(x)))))

    return _Net()


def _forward_numpy(w: dict, cfg: MouthConfig, x: np.ndarray) -> np.ndarray:
    """numpy twin of :func:`build_torch`: ``(in_dim, T) -> (n_out, T)``, float32."""
    T = x.shape[1]
    h = w["inp.weight"][:, :, 0] @ x + w["inp.bias"][:, None]
    causal = cfg.lookahead is not None
    for i, d in enumerate(cfg.dilations):
        k = w[f"blocks.{i}.conv.weight"]
        p = (cfg.kernel - 1) * d
        left = p if causal else p // 2
        a = np.pad(np.maximum(h, 0, dtype=np.float32), ((0, 0), (left, p - left)))
        acc = k[:, :, 0] @ a[:, :T]
        for j in range(1, cfg.kernel):
            acc += k[:, :, j] @ a[:, j * d : j * d + T]
        h = h + acc + w[f"blocks.{i}.conv.bias"][:, None]
    return (w["out.weight"][:, :, 0] @ np.maximum(h, 0) + w["out.bias"][:, None]).astype(np.float32)


def fast_weights(nets: list[dict], cfg: MouthConfig) -> dict:
    """B networks of one config (an ensemble) stacked for :func:`forward_fast`: time-major
    input/output matrices, the blocks' kernels Winograd-transformed
    (:func:`talkinghead._util.winograd.transform_kernels`)."""

    def stack(key: str) -> np.ndarray:
        return np.stack([np.asarray(w[key], np.float32) for w in nets])

    return {
        "inp": np.ascontiguousarray(stack("inp.weight")[:, :, :, 0].transpose(0, 2, 1)),
        "inp.bias": stack("inp.bias")[:, None, :],
        "blocks": [
            transform_kernels(stack(f"blocks.{i}.conv.weight")) for i in range(len(cfg.dilations))
        ],  # fmt: skip
        "biases": [stack(f"blocks.{i}.conv.bias") for i in range(len(cfg.dilations))],
        "out": np.ascontiguousarray(stack("out.weight")[:, :, :, 0].transpose(0, 2, 1)),
        "out.bias": stack("out.bias")[:, None, :],
    }


def forward_fast(fw: dict, cfg: MouthConfig, x: np.ndarray) -> np.ndarray:
    """The mean of B networks (:func:`fast_weights`) on standardised rows ``x`` (T, in_dim):
    (T, n_out) float32; the centred networks of :func:`_forward_numpy` up to float32
    rounding (their blocks run :func:`talkinghead._util.winograd.relu_stack`)."""
    h = np.matmul(np.asarray(x, np.float32)[None], fw["inp"])  # (B, T, C)
    h += fw["inp.bias"]
    a = relu_stack(h, fw["blocks"], fw["biases"], cfg.dilations, kernel=cfg.kernel,
                   causal=cfg.lookahead is not None)  # fmt: skip
    o = np.matmul(a, fw["out"])
    o += fw["out.bias"]
    out = o[0].copy()
    for k in range(1, len(o)):
        out += o[k]
    if len(o) > 1:
        out /= len(o)
    return out


def close_dips(
    z_open: np.ndarray, *, depth: float, half_window: int, closed_z: float
) -> np.ndarray:
    """Push the opening's clear dips down to closed lips (the closure post-step).

    A frame ``i`` is a dip when it is the lowest of ``z_open[i - half_window : i +
    half_window + 1]`` and at least ``depth`` below the lower of the highest values on its
    left and on its right within that window; it then becomes ``min(z_open[i],
    closed_z)``, and its two neighbours half way there. Without a transcript this finds the
    short closures of /p b m/ that the smooth network output only hints at.

    Parameters
    ----------
    z_open : np.ndarray, shape (T,)
        Predicted opening z-scores at the video frames.
    depth : float
        Minimum depth of a dip (z units), > 0.
    half_window : int
        Frames on each side, >= 1.
    closed_z : float
        The z-score of closed lips (jaw opening 0).

    Returns
    -------
    np.ndarray, float64, shape (T,)
    """
    x = np.asarray(z_open, np.float64).reshape(-1)
    if not depth > 0 or int(half_window) < 1:
        raise InvalidArgumentError(
            f"depth={depth} must be > 0 and half_window={half_window} must be >= 1"
        )
    w, T = int(half_window), len(x)
    out = x.copy()
    for i in range(1, T - 1):
        lo, hi = max(0, i - w), min(T, i + w + 1)
        if x[i] > x[lo:hi].min() or x[i] >= x[i - 1] and x[i] >= x[i + 1]:
            continue
        if min(x[lo:i].max(), x[i + 1 : hi].max()) - x[i] < depth:
            continue
        out[i] = min(out[i], closed_z)
        for j in (i - 1, i + 1):
            out[j] = min(out[j], 0.5 * (x[j] + closed_z))
    return out


def noise_floor_gate(
    *,
    y: np.ndarray,
    sr: int,
    fps: float,
    n_frames: int,
    threshold_db: float = -45.0,
    floor_margin_db: float | None = None,
    edges_only: bool = True,
    ramp_ms: float = 80.0,
) -> np.ndarray:
    """Speech gate: 1 in speech, 0 in silence, linear ramps of ``ramp_ms`` at the edges.

    Silent: frames more than ``-threshold_db`` dB below the clip's 99th-percentile frame RMS
    (as :func:`talkinghead.models.default.speech_gate`) or, with ``floor_margin_db``, the
    clip's leading and trailing frames (before its first and after its last frame that
    rises ``floor_margin_db`` dB above the clip's noise floor, its 5th-percentile frame
    RMS; ``edges_only=False``: every such quiet frame).

    Returns
    -------
    np.ndarray, float64, shape (n_frames,), in [0, 1]
    """
    from ..audio.energy import rms_envelope, smooth

    env = rms_envelope(y=y, sr=sr, fps=fps, n_frames=n_frames, smooth_ms=0.0)
    if not env.size:
        return np.zeros(0)
    db = 20 * np.log10(np.maximum(env, 1e-10))
    thr = float(np.percentile(db, 99)) + float(threshold_db)
    speech = db >= thr
    if floor_margin_db is not None:
        loud = db >= max(thr, float(np.percentile(db, 5)) + float(floor_margin_db))
        if not edges_only:
            speech &= loud
        elif loud.any():
            i = np.flatnonzero(loud)
            speech[: i[0]] = False
            speech[i[-1] + 1 :] = False
    g = speech.astype(np.float64)
    if ramp_ms > 0:
        g = np.clip(smooth(g, fps=fps, window_ms=ramp_ms) * 2.0, 0.0, 1.0)
    return g


def mel_frames(y16: np.ndarray) -> np.ndarray:
    """The ``"mel"`` front end: Whisper log-mel, pairs of 10 ms frames averaged, (T50, 80)."""
    from ..audio.whisper import WHISPER_SR, whisper_logmel

    m = whisper_logmel(y=y16, sr=WHISPER_SR)
    if m.shape[1] % 2:
        m = np.pad(m, ((0, 0), (0, 1)), mode="edge")
    return (0.5 * (m[:, 0::2] + m[:, 1::2])).T.astype(np.float32)


def student_frames(student, y16: np.ndarray) -> np.ndarray:
    """The ``"student"`` front end: the student's 384 Whisper-like features and its
    auxiliary mouth output(s), (T50, 384 + aux_dim)."""
    from ..audio.whisper import WHISPER_SR, whisper_logmel

    feats, aux = student.encode(whisper_logmel(y=y16, sr=WHISPER_SR), with_aux=True)
    return np.concatenate([feats, aux], axis=1) if aux.shape[1] else feats


def causal_frames(causal, y16: np.ndarray) -> np.ndarray:
    """The ``"causal"`` front end: the causal default model's trunk on ``y16`` followed by
    zeros, shape (T50, C + n_heads), ``T50 = ceil(len(y16) / 320) + 1`` (one row past the
    end, so every video frame has its two neighbouring rows).

    Row ``i`` (centred at ``0.02 i + 0.005`` s) has read audio up to ``0.02 i + 0.0225``
    s: ReLU activations (C) then head outputs (head ``k`` estimates the offline default's
    z-score of row ``i - delays[k]``).
    """
    from .causal_default import causal_logmel

    y16 = np.asarray(y16, np.float64).reshape(-1)
    n50 = causal_n50(len(y16))
    y = np.concatenate([y16, np.zeros(causal_pad(len(y16)))])
    return causal.trunk_offline(causal_logmel(y), features=True)[:n50]


def causal_n50(n_samples: int) -> int:
    """Rows of :func:`causal_frames` for ``n_samples`` of 16 kHz audio."""
    return -(-int(n_samples) // 320) + 1


def causal_pad(n_samples: int) -> int:
    """Zeros :func:`causal_frames` appends to ``n_samples`` (its last row's window end)."""
    return 320 * causal_n50(n_samples) + 40 - int(n_samples)


def prior_at_50hz(model):
    """A copy of a :class:`~talkinghead.models.default.DefaultModel` read-out (fitted at the
    video frame rate, 25-30 fps) with its context offsets doubled for 50 Hz frames."""
    from .default import DefaultModel

    return DefaultModel(model.weight, model.bias, model.feature_mean, model.feature_scale,
                        [2 * o for o in model.offsets], model.meta,
                        calibration=model.calibration)  # fmt: skip


def append_prior(prior, feats: np.ndarray) -> np.ndarray:
    """``feats`` (T, F >= prior dim) + a last column: the prior's calibrated opening z."""
    n = prior.feature_mean.size
    z = prior.predict_zscore(np.asarray(feats[:, :n], np.float32))
    if prior.calibration is not None:
        z = np.interp(z, *prior.calibration)
    return np.concatenate([feats, z[:, None].astype(np.float32)], axis=1)


@dataclass
class MouthResult:
    """Output of :class:`MouthModel` (the fields of ``DefaultResult`` plus the DOFs).

    Attributes
    ----------
    fps : float
    zscore : np.ndarray, float32, shape (T,)
        Predicted per-clip z-score of the opening (after calibration, before the gate).
    dof_z : np.ndarray, float32, shape (T, 6)
        Predicted z-scores of every DOF (after calibration, before the gate).
    gate : np.ndarray, float32, shape (T,)
    articulation : np.ndarray, float32, shape (T, 7)
        :data:`talkinghead.face.articulation.ARTICULATION_NAMES`.
    landmarks : np.ndarray, float32, shape (T, 68, 2)
    mouth_open : np.ndarray, float32, shape (T,)
    """

    fps: float
    zscore: np.ndarray
    dof_z: np.ndarray
    gate: np.ndarray
    articulation: np.ndarray
    landmarks: np.ndarray
    mouth_open: np.ndarray
    closure: np.ndarray | None = None


def check_net_weights(weights: dict, cfg: MouthConfig, what: str = "weights") -> None:
    """Raise unless ``weights`` holds every array of the network of ``cfg`` (:func:`build_torch`)
    with its shape."""
    c = cfg.channels
    want = {
        "inp.weight": (c, cfg.in_dim, 1),
        "inp.bias": (c,),
        "out.weight": (cfg.n_out, c, 1),
        "out.bias": (cfg.n_out,),
    }
    for i in range(len(cfg.dilations)):
        want[f"blocks.{i}.conv.weight"] = (c, c, cfg.kernel)
        want[f"blocks.{i}.conv.bias"] = (c,)
    for k, shape in want.items():
        got = weights[k].shape if k in weights else None
        if got != shape:
            raise InvalidArgumentError(f"{what}[{k!r}].shape={got} must be {shape}")


class MouthModel(TorchTwinMixin, PretrainedMixin):
    """Front end + temporal conv network + DOF geometry (see the module docstring).

    Parameters
    ----------
    config : MouthConfig
    weights : dict of str -> np.ndarray, optional
        The torch module's ``state_dict`` as arrays (None: a random network, via torch).
    feature_mean, feature_scale : np.ndarray, shape (in_dim,)
        Standardisation of the (utterance-normalised) front-end features.
    dof_stats : talkinghead.face.articulation.DofStats
    calibration : np.ndarray, shape (n_out, 2, K), optional
        Per-DOF monotone quantile map from the network's output (row 0, increasing) to the
        real per-clip z-scores (row 1).
    student : SpeechStudent, optional
        The front end when ``config.frontend == "student"``.
    causal : CausalDefaultModel, optional
        The front end when ``config.frontend == "causal"`` (needed to predict; may be set
        after training).
    prior : DefaultModel, optional
        The ridge read-out whose opening is an extra input (``config.prior``), with its
        offsets in 50 Hz frames.
    open_calibration : np.ndarray, shape (2, K), optional
        Monotone quantile map applied to the opening *after* the prior blend (a blend of two
        calibrated signals has narrower tails than either: fewer closures at the floor);
        fitted on validation clips like ``calibration``.
    closure : ClosureNet, optional
        The /p b m/ frame classifier (needed when ``config.closure_gain`` is set).
    members : list of dict, optional
        More networks of the same config (weights as ``weights``), e.g. the same recipe
        with other seeds: :meth:`raw_outputs` is the mean of every network's outputs (an
        ensemble; offline only: :mod:`talkinghead.streaming` runs ``weights`` alone).
    meta : dict, optional

    Checkpoints: :meth:`save_pretrained` (float16 network weights by default; the front end
    in ``student/`` or ``causal/``) / :meth:`from_pretrained` (default: the shipped
    :data:`MOUTH_DIR`; :class:`~talkinghead._util.checkpoint.PretrainedMixin`).
    """

    checkpoint_format = _FORMAT
    checkpoint_version = _VERSION
    checkpoint_what = "mouth model"
    half_default = True

    def __init__(
        self,
        config: MouthConfig,
        weights=None,
        *,
        feature_mean=None,
        feature_scale=None,
        dof_stats=None,
        calibration=None,
        student=None,
        prior=None,
        open_calibration=None,
        causal=None,
        meta=None,
        members=None,
        closure=None,
    ) -> None:
        from ..face.articulation import DofStats

        self.config = config
        n = config.in_dim
        self.feature_mean = np.zeros(n, np.float32) if feature_mean is None else feature_mean
        self.feature_scale = np.ones(n, np.float32) if feature_scale is None else feature_scale
        self.feature_mean = np.asarray(self.feature_mean, np.float32).reshape(-1)
        self.feature_scale = np.asarray(self.feature_scale, np.float32).reshape(-1)
        if self.feature_mean.size != n or self.feature_scale.size != n:
            raise InvalidArgumentError(
                f"feature_mean.size={self.feature_mean.size} must equal in_dim={n}"
            )
        if dof_stats is None:
            dof_stats = DofStats(
                [0.08, 0.62, 0, 0, 0, 0],
                [0.05, 0.03, 0.01, 0.015, 0.01, 0.01],
                [-1.0, -0.3, 0, 0, 0, 0],
            )
        self.dof_stats = dof_stats
        self.calibration = None
        if calibration is not None:
            cal = np.asarray(calibration, np.float64)
            if cal.ndim != 3 or cal.shape[:2] != (config.n_out, 2):
                raise InvalidArgumentError(
                    f"calibration.shape={cal.shape} must be ({config.n_out}, 2, K)"
                )
            self.calibration = cal
        if config.frontend == "student" and student is None:
            raise InvalidArgumentError("student=None must be given when frontend='student'")
        self.student = student
        self.causal = causal
        if config.prior and prior is None and config.frontend != "causal":
            raise InvalidArgumentError("prior=None must be given when config.prior is true")
        self.prior = prior
        self.open_calibration = None
        if open_calibration is not None:
            oc = np.asarray(open_calibration, np.float64)
            if oc.ndim != 2 or oc.shape[0] != 2:
                raise InvalidArgumentError(f"open_calibration.shape={oc.shape} must be (2, K)")
            self.open_calibration = oc
        self.meta = dict(meta or {})
        self._net = None
        if weights is None:
            self._net = build_torch(config)
            self.pull_weights()
        else:
            self.weights = {k: np.asarray(v, np.float32) for k, v in weights.items()}
            self._check_weights()
        self.members = []
        for i, mw in enumerate(members or []):
            self.members.append({k: np.asarray(v, np.float32) for k, v in mw.items()})
            self._check_weights(self.members[-1], f"members[{i}]")
        self.closure = closure
        if closure is not None and config.closure_frontend == "features":
            if closure.config.in_dim != config.in_dim:
                raise InvalidArgumentError(
                    f"closure.config.in_dim={closure.config.in_dim} must equal "
                    f"in_dim={config.in_dim}"
                )
        elif closure is not None and closure.in_mean is None:
            raise InvalidArgumentError(
                f"closure_frontend={config.closure_frontend!r} needs the classifier's "
                "in_mean and in_scale"
            )

    def _check_weights(self, weights=None, what: str = "weights") -> None:
        check_net_weights(self.weights if weights is None else weights, self.config, what)

    def _build_net(self):
        return build_torch(self.config)

    def with_closures(self, gain: float = 1.0) -> MouthModel:
        """This model with its /p b m/ classifier switched on: a shallow copy whose
        ``config.closure_gain`` is ``gain`` (the classifier, its ``closure_threshold``,
        ``closure_lead`` and ``closure_frontend`` are the checkpoint's; this model is not
        changed). The shipped default carries a classifier on Whisper tiny.en encoder frames
        that is off unless asked for (``animate(..., closures="whisper")``)."""
        import copy
        from dataclasses import replace

        if self.closure is None:
            raise InvalidArgumentError(
                "closure=None: this mouth checkpoint has no /p b m/ classifier "
                "(scripts/train_closure.py train adds one)"
            )
        m = copy.copy(self)
        m.config = replace(self.config, closure_gain=float(check_positive("gain", gain)))
        return m

    # ------------------------------------------------------------------ prediction
    def frontend_frames(self, y16: np.ndarray) -> np.ndarray:
        """Front-end features of a 16 kHz signal, shape (T50, in_dim), float32; frame ``i``
        centred at ``0.02 i + 0.005`` s."""
        fe = self.config.frontend
        if fe == "mel":
            return self.with_prior(mel_frames(y16))
        if fe == "causal":
            if self.causal is None:
                raise InvalidArgumentError("causal=None must be given when frontend='causal'")
            return causal_frames(self.causal, y16)
        if fe == "whisper":
            from ..audio.whisper import encoder_frames

            return self.with_prior(encoder_frames(y16))
        return self.with_prior(student_frames(self.student, y16))

    def with_prior(self, feats: np.ndarray) -> np.ndarray:
        """Append the prior's opening z-score to front-end frames (no-op without a prior)."""
        if self.prior is None:
            return feats
        return append_prior(self.prior, feats)

    def normalize(self, feats: np.ndarray) -> np.ndarray:
        """Front-end frames (T, in_dim) -> the network's standardised input (T, in_dim)."""
        x = np.asarray(feats, np.float32)
        if self.config.utterance_norm:
            x = utterance_normalize(x)
        return (x - self.feature_mean) / self.feature_scale

    def raw_outputs(self, feats: np.ndarray) -> np.ndarray:
        """The network's outputs on front-end frames, shape (T, n_out) (no calibration)."""
        x = self.normalize(feats)
        if x.ndim != 2 or x.shape[1] != self.config.in_dim:
            raise InvalidArgumentError(f"feats.shape={x.shape} must be (T, {self.config.in_dim})")
        T = len(x)
        if T == 0:
            return np.zeros((0, self.config.n_out), np.float32)
        L = self.config.lookahead or 0
        if L:
            x = np.concatenate([x, np.repeat(x[-1:], L, axis=0)])
        return self.network(x)[L : L + T]

    def network(self, x: np.ndarray) -> np.ndarray:
        """The network alone (with its ensemble members, averaged) on standardised input
        rows (T, in_dim) (:meth:`normalize`'s output; a causal model's rows already carry
        their look-ahead), shape (T, n_out)."""
        x = np.asarray(x, np.float32)
        if self.config.lookahead is None and self.config.kernel in KERNELS and len(x):
            return forward_fast(self.fast_weights(), self.config, x)
        xt = np.ascontiguousarray(x.T)
        out = _forward_numpy(self.weights, self.config, xt)
        for mw in self.members:
            out += _forward_numpy(mw, self.config, xt)
        out /= 1 + len(self.members)
        return out.T

    def fast_weights(self) -> dict:
        """The networks' weights laid out for :func:`forward_fast` (built once, rebuilt when
        :attr:`weights` or :attr:`members` are replaced)."""
        nets = (self.weights, *self.members)
        got = getattr(self, "_fast", None)
        if (
            got is None
            or len(got[0]) != len(nets)
            or any(a is not b for a, b in zip(got[0], nets, strict=True))
        ):
            self._fast = (nets, fast_weights(list(nets), self.config))
        return self._fast[1]

    def predict_dofs(self, feats: np.ndarray) -> np.ndarray:
        """Calibrated per-clip z-scores of the DOFs on front-end frames, shape (T, n_out)."""
        out = self.raw_outputs(feats)
        if self.config.prior and len(out):
            return self.calibrate_outputs(out, self.prior_column(feats))
        return self.calibrate_outputs(out)

    def calibrate_outputs(self, out: np.ndarray, prior: np.ndarray | None = None) -> np.ndarray:
        """Network outputs (T, n_out) -> calibrated DOF z-scores (T, n_out), float64, the
        opening blended with ``prior`` (T,) by ``prior_blend`` (the second half of
        :meth:`predict_dofs`, for callers that run the network themselves: streaming)."""
        out = np.array(out, np.float64)
        if self.calibration is not None:
            for k in range(out.shape[1]):
                out[:, k] = np.interp(out[:, k], *self.calibration[k])
        b = float(self.config.prior_blend) if self.config.prior else 0.0
        if b > 0 and len(out) and prior is not None:
            out[:, 0] = (1.0 - b) * out[:, 0] + b * np.asarray(prior, np.float64)
        if self.open_calibration is not None and len(out):
            out[:, 0] = np.interp(out[:, 0], *self.open_calibration)
        return out

    def closure_prob(self, feats: np.ndarray | None, y16: np.ndarray | None = None) -> np.ndarray:
        """The classifier's p(/p b m/) per row of front-end frames, shape (T,), float64:
        read from the network's standardised input (:meth:`normalize`), or with
        ``closure_frontend="whisper"`` from the Whisper encoder frames of ``y16`` (16 kHz
        samples, required then), cut or edge-padded to the T rows of ``feats`` (``None``:
        one row per encoder frame)."""
        if self.closure is None:
            raise InvalidArgumentError("closure=None must be given when closure_gain is set")
        if self.config.closure_frontend == "features":
            if feats is None:
                raise InvalidArgumentError("feats=None must be the front-end frames here")
            return self.closure.prob(self.normalize(feats))
        if y16 is None:
            raise InvalidArgumentError(
                f"y16=None must be the audio with closure_frontend={self.config.closure_frontend!r}"
            )
        from ..audio.whisper import encoder_frames

        if len(y16) == 0 or (feats is not None and len(feats) == 0):
            return np.zeros(0 if feats is None else len(feats))
        p = self.closure.prob(self.closure.standardize(encoder_frames(np.asarray(y16, np.float32))))
        T = len(p) if feats is None else len(feats)
        return p[:T] if len(p) >= T else np.concatenate([p, np.full(T - len(p), p[-1])])

    def closure_strength(
        self, feats: np.ndarray | None, y16: np.ndarray | None = None
    ) -> np.ndarray:
        """How far each row of front-end frames closes the lips before ``closure_gain``,
        shape (T,): :meth:`closure_prob` through ``closure_threshold``, moved
        ``closure_lead`` rows earlier."""
        p = self.closure_prob(feats, y16)
        t = float(self.config.closure_threshold)
        if t > 0:
            p = np.clip((p - t) / (1.0 - t), 0.0, 1.0)
        lead = int(self.config.closure_lead)
        if lead and len(p):
            p = np.concatenate([p[lead:], np.full(min(lead, len(p)), p[-1])])
        return p

    def closure_track(
        self,
        y16: np.ndarray,
        *,
        fps: float,
        n_frames: int,
        gate: np.ndarray,
        feats: np.ndarray | None = None,
    ) -> np.ndarray:
        """How far the lips close at each output frame, shape (n_frames,), in [0, 1]:
        ``min(1, closure_gain * strength) * gate``, the strength (:meth:`closure_strength`)
        of the 50 Hz rows resampled to ``fps``. ``feats``: the front-end rows (needed by a
        ``"features"`` classifier; with ``"whisper"`` the encoder's own rows are used when
        ``None``, e.g. for another model's output: :meth:`DefaultModel.with_closures`)."""
        from ..audio.whisper import frames_to_fps

        q = self.closure_strength(feats, y16)[:, None]
        if len(q) == 0:
            return np.zeros(n_frames)
        p = frames_to_fps(q, n_samples=len(y16), fps=fps, n_frames=n_frames)[:, 0]
        return np.clip(float(self.config.closure_gain or 0.0) * p, 0.0, 1.0) * np.asarray(gate)

    def prior_column(self, feats: np.ndarray) -> np.ndarray:
        """The prior's opening z-score per row of front-end frames, shape (T,): the last
        column, or with the ``"causal"`` front end the calibrated head of look-ahead ``L``
        read ``L`` rows later (the last row repeated past the end, as the network reads)."""
        f = np.asarray(feats, np.float64)
        if self.config.frontend != "causal":
            return f[:, -1]
        if self.causal is None:
            raise InvalidArgumentError("causal=None must be given when frontend='causal'")
        L = int(self.config.lookahead or 0)
        col = self.causal.config.channels + self.causal.head_for(20.0 * L)
        p = f[np.minimum(np.arange(len(f)) + L, len(f) - 1), col]
        cal = self.causal.calibration
        return p if cal is None else np.interp(p, cal[0], cal[1])

    def __call__(
        self,
        *,
        y: np.ndarray,
        sr: int,
        fps: float = 25.0,
        n_frames: int | None = None,
        neutral: np.ndarray | None = None,
        phones=None,
    ) -> MouthResult:
        """Animate speech (same contract as :class:`talkinghead.models.default.DefaultModel`).

        ``phones`` (known /p b m/ segments, e.g. from a transcript's alignment) also close
        the lips there (:func:`talkinghead.models.default.bilabial_closure`).
        """
        from ..audio.whisper import frames_to_fps, to_16k
        from ..face.articulation import articulation_to_landmarks, dofs_to_articulation
        from ..face.landmarks68 import mouth_openness_68
        from ..face.normalize import neutral_face_68
        from .default import bilabial_closure, speech_gate

        fps = check_positive("fps", fps)
        sr = int(check_positive("sr", sr))
        y = np.asarray(y, dtype=np.float32).reshape(-1)
        if n_frames is None:
            n_frames = int(round(len(y) / sr * fps))
        n_frames = int(n_frames)
        y16, fps, n_frames = to_16k(y=y, sr=sr, fps=fps, n_frames=n_frames)
        feats = self.frontend_frames(y16)
        z50 = self.predict_dofs(feats)
        z = frames_to_fps(z50, n_samples=len(y16), fps=fps, n_frames=n_frames).astype(np.float64)
        if len(y) and np.max(np.abs(y)) > 0 and self.config.gate_floor_db is not None:
            gate = noise_floor_gate(
                y=y, sr=sr, fps=fps, n_frames=n_frames, threshold_db=self.config.gate_db,
                floor_margin_db=self.config.gate_floor_db,
            )  # fmt: skip
        elif len(y) and np.max(np.abs(y)) > 0:
            gate = speech_gate(
                y=y, sr=sr, fps=fps, n_frames=n_frames, threshold_db=self.config.gate_db
            )
        else:
            gate = np.zeros(n_frames)
        if self.config.close_dips is not None and n_frames > 2:
            mu, sd = self.dof_stats.mean[0], max(self.dof_stats.std[0], 1e-9)
            z[:, 0] = close_dips(
                z[:, 0],
                depth=float(self.config.close_dips),
                half_window=max(1, int(round(self.config.close_dip_s * fps))),
                closed_z=-mu / sd,
            )
        art = dofs_to_articulation(z, self.dof_stats, gate)
        closure = None
        if self.config.closure_gain and n_frames:
            closure = self.closure_track(y16, fps=fps, n_frames=n_frames, gate=gate, feats=feats)
            art[:, 0] *= 1.0 - closure
            art[:, 3] = np.maximum(art[:, 3], closure)
        if phones:
            c = bilabial_closure(phones, fps=fps, n_frames=n_frames)
            art[:, 0] *= 1.0 - c
            art[:, 3] = np.maximum(art[:, 3], c)
        lm = articulation_to_landmarks(
            art, neutral=neutral_face_68() if neutral is None else neutral
        ).reshape(n_frames, 68, 2)
        return MouthResult(
            fps=float(fps),
            zscore=z[:, 0].astype(np.float32),
            dof_z=z.astype(np.float32),
            gate=gate.astype(np.float32),
            articulation=art,
            landmarks=lm.astype(np.float32),
            mouth_open=np.asarray(mouth_openness_68(lm), dtype=np.float32),
            closure=None if closure is None else closure.astype(np.float32),
        )

    # ------------------------------------------------------------------ persistence
    def _checkpoint_tensors(self, half: bool) -> dict:
        if self._net is not None:
            self.pull_weights()
        dt = np.float16 if half else np.float32
        arrays = {k: np.ascontiguousarray(v, dtype=dt) for k, v in self.weights.items()}
        for i, mw in enumerate(self.members, start=1):
            arrays.update({f"member{i}.{k}": np.ascontiguousarray(v, dtype=dt)
                           for k, v in mw.items()})  # fmt: skip
        arrays["feature_mean"] = self.feature_mean.astype(np.float32)
        arrays["feature_scale"] = self.feature_scale.astype(np.float32)
        if self.calibration is not None:
            arrays["calibration"] = self.calibration.astype(np.float32)
        if self.open_calibration is not None:
            arrays["open_calibration"] = self.open_calibration.astype(np.float32)
        if self.prior is not None:
            p = self.prior
            arrays["prior.weight"] = p.weight.astype(np.float32)
            arrays["prior.bias"] = np.array([p.bias], np.float32)
            arrays["prior.feature_mean"] = p.feature_mean.astype(np.float32)
            arrays["prior.feature_scale"] = p.feature_scale.astype(np.float32)
            if p.calibration is not None:
                arrays["prior.calibration"] = p.calibration.astype(np.float32)
        if self.closure is not None:
            arrays.update({f"closure.{k}": np.ascontiguousarray(v, dtype=dt)
                           for k, v in self.closure.weights.items()})  # fmt: skip
            if self.closure.in_mean is not None:  # float32 always: standardisation
                arrays["closure.in_mean"] = self.closure.in_mean.astype(np.float32)
                arrays["closure.in_scale"] = self.closure.in_scale.astype(np.float32)
        return arrays

    def _save_extras(self, directory: Path) -> None:
        if self.student is not None:
            self.student.save_pretrained(directory / "student")
        if self.causal is not None:
            self.causal.save_pretrained(directory / "causal")

    def _checkpoint_config(self) -> dict:
        cfg = self.config.to_dict()
        if self.closure is not None:
            cfg["closure_net"] = self.closure.config.to_dict()
        return {
            "config": cfg,
            "dof_stats": self.dof_stats.to_dict(),
            "prior_offsets": None if self.prior is None else self.prior.offsets,
            "meta": self.meta,
        }

    @classmethod
    def _default_checkpoint(cls) -> Path:
        return Path(MOUTH_DIR)

    @classmethod
    def _from_checkpoint(cls, directory: Path, cfg: dict, t: dict) -> MouthModel:
        from ..face.articulation import DofStats

        try:
            config = MouthConfig.from_dict(cfg["config"])
            student = None
            if config.frontend == "student":
                from .student import SpeechStudent

                student = SpeechStudent.from_pretrained(directory / "student")
            causal = None
            if config.frontend == "causal":
                from .causal_default import CausalDefaultModel

                causal = CausalDefaultModel.from_pretrained(directory / "causal")
            fm, fs, cal = t.pop("feature_mean"), t.pop("feature_scale"), t.pop("calibration", None)
            ocal = t.pop("open_calibration", None)
            members: dict[int, dict] = {}
            for k in [k for k in t if k.startswith("member")]:
                head, _, rest = k.partition(".")
                members.setdefault(int(head[6:]), {})[rest] = t.pop(k)
            closure = None
            cw = {k[8:]: t.pop(k) for k in list(t) if k.startswith("closure.")}
            if cw or config.closure_gain:
                if not cw or not config.closure_net:
                    raise InvalidArgumentError(
                        "closure_gain needs closure.* weights and config.closure_net"
                    )
                closure = ClosureNet(MouthConfig.from_dict(config.closure_net), cw)
            prior = None
            if config.prior and config.frontend != "causal":
                from .default import DefaultModel

                p = {k[6:]: t.pop(k) for k in list(t) if k.startswith("prior.")}
                prior = DefaultModel(p["weight"], float(p["bias"][0]), p["feature_mean"],
                                     p["feature_scale"], cfg["prior_offsets"],
                                     calibration=p.get("calibration"))  # fmt: skip
            return cls(
                config,
                t,
                feature_mean=fm,
                feature_scale=fs,
                dof_stats=DofStats.from_dict(cfg["dof_stats"]),
                calibration=cal,
                student=student,
                prior=prior,
                open_calibration=ocal,
                causal=causal,
                meta=cfg.get("meta"),
                members=[members[i] for i in sorted(members)],
                closure=closure,
            )
        except (KeyError, TypeError, ValueError, InvalidArgumentError) as e:
            raise CheckpointError(f"path='{directory}' holds an inconsistent model: {e}") from e


def utterance_normalize(x: np.ndarray) -> np.ndarray:
    """Each column of frames ``x`` (T, D) to zero mean and unit standard deviation over the
    utterance (``+ 1e-6``), in ``x``'s dtype; ``x`` itself when it has no rows."""
    x = np.asarray(x)
    if not len(x):
        return x
    return (x - x.mean(0)) / (x.std(0) + 1e-6)


# -- the /p b m/ classifier behind config.closure_gain (trained by recipes.closure) --


def closure_config(in_dim: int, *, channels: int = 32, dilations=(1, 2, 4, 8, 1), kernel: int = 5):
    """The classifier's architecture: a :class:`~talkinghead.models.mouth.MouthConfig` with
    one output (only ``in_dim``, ``channels``, ``kernel``, ``dilations`` and ``n_out``
    matter; centred convolutions)."""
    return MouthConfig(in_dim=int(in_dim), channels=int(channels), kernel=int(kernel),
                       dilations=list(dilations), n_out=1, prior=False)  # fmt: skip


class ClosureNet:
    """The /p b m/ frame classifier of the closures (issue 12; ``config.closure_gain``):
    ``weights`` (the torch module's state_dict as arrays) of
    :func:`closure_config` ``config``.

    :meth:`prob` maps standardised input rows (T, in_dim) to p(/p b m/) (T,), float64.
    ``in_mean`` / ``in_scale`` (in_dim,): the standardisation of a classifier with its own
    front end (``MouthConfig.closure_frontend="whisper"``; :meth:`standardize`); also
    accepted as ``weights["in_mean"]`` / ``weights["in_scale"]`` (how checkpoints store
    them).
    """

    def __init__(self, config, weights: dict, *, in_mean=None, in_scale=None) -> None:
        if config.n_out != 1:
            raise InvalidArgumentError(f"config.n_out={config.n_out} must be 1 (one logit)")
        self.config = config
        w = {k: np.asarray(v, np.float32) for k, v in weights.items()}
        in_mean = w.pop("in_mean", None) if in_mean is None else in_mean
        in_scale = w.pop("in_scale", None) if in_scale is None else in_scale
        self.in_mean = self.in_scale = None
        if (in_mean is None) != (in_scale is None):
            raise InvalidArgumentError("in_mean and in_scale must be given together")
        if in_mean is not None:
            self.in_mean = np.asarray(in_mean, np.float32).reshape(-1)
            self.in_scale = np.asarray(in_scale, np.float32).reshape(-1)
            for name, a in (("in_mean", self.in_mean), ("in_scale", self.in_scale)):
                if a.shape != (config.in_dim,):
                    raise InvalidArgumentError(f"{name}.shape={a.shape} must be ({config.in_dim},)")
        self.weights = w
        check_net_weights(self.weights, config, "closure weights")
        self._fast = None

    def standardize(self, frames: np.ndarray) -> np.ndarray:
        """Front-end frames (T, in_dim) -> the classifier's input: each column normalised
        over the utterance, then ``(x - in_mean) / in_scale``; float32."""
        if self.in_mean is None:
            raise InvalidArgumentError("in_mean=None: this classifier reads standardised rows")
        x = utterance_normalize(np.asarray(frames, np.float32))
        return ((x - self.in_mean) / self.in_scale).astype(np.float32)

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Logits on standardised rows ``x`` (T, in_dim), shape (T,), float32."""
        x = np.asarray(x, np.float32)
        if x.ndim != 2 or x.shape[1] != self.config.in_dim:
            raise InvalidArgumentError(f"x.shape={x.shape} must be (T, {self.config.in_dim})")
        if not len(x):
            return np.zeros(0, np.float32)
        if self.config.kernel in KERNELS:
            if self._fast is None:
                self._fast = fast_weights([self.weights], self.config)
            return forward_fast(self._fast, self.config, x)[:, 0]
        return _forward_numpy(self.weights, self.config, np.ascontiguousarray(x.T))[0]

    def prob(self, x: np.ndarray) -> np.ndarray:
        """p(/p b m/) per row of ``x``, shape (T,), float64."""
        z = np.asarray(self.logits(x), np.float64)
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic function, overflow-free
