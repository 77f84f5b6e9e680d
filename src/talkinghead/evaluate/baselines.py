"""Reference predictors measured on the same clips as a model.

* :func:`mean_face` - a constant face (the training mean, or the clip's own mean).
  Its openness is constant, and a constant series has no correlation: its
  mouth-opening r is defined as 0 (see :func:`talkinghead.evaluate.metrics.pearson_r`).
* :func:`energy_mouth_open` - the audio's RMS envelope at the video frame rate,
  smoothed over ~40 ms: louder = more open.
* :func:`phonetic_predict` - the rule-based phonetic animator
  (:class:`talkinghead.models.phonetic.PhoneticAnimator`).
* :func:`smoothed_truth` - the tracked truth smoothed over 120 ms, the practical
  ceiling of a smooth predictor.

Every baseline returns a :class:`Prediction`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..audio.energy import mono, rms_envelope, smooth
from ..errors import InvalidArgumentError
from .metrics import mouth_openness

__all__ = [
    "Prediction",
    "energy_mouth_open",
    "energy_predict",
    "mean_face",
    "phonetic_predict",
    "smoothed_truth",
]


@dataclass
class Prediction:
    """What a system predicts for one clip.

    Attributes
    ----------
    mouth_open : np.ndarray, shape (T,)
        Mouth openness per frame (any monotonic scale: only correlations and
        relative closures are scored on it).
    landmarks : np.ndarray, shape (T, 68, 2), optional
        Predicted 68 landmarks, for the landmark metrics (in the truth's
        coordinates, or in any frame when scored with similarity alignment).
    params : np.ndarray, shape (T, D), optional
        Predicted parameters / codes (scored against the truth's ``params``).
    extra : dict
        Anything else (e.g. the phones used).
    """

    mouth_open: np.ndarray
    landmarks: np.ndarray | None = None
    params: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_output(cls, out) -> Prediction:
        """Coerce a predictor's output: a Prediction, an openness (T,), landmarks
        (T, 68, 2), a mesh (T, 468, 3), or an object with ``mouth_open`` /
        ``landmarks`` attributes (e.g. :class:`~talkinghead.models.phonetic.PhoneticResult`)."""
        if isinstance(out, Prediction):
            return out
        lm = getattr(out, "landmarks", None)
        mo = getattr(out, "mouth_open", None)
        if lm is not None or mo is not None:
            lm = None if lm is None else np.asarray(lm, dtype=np.float64)
            if mo is None:
                mo = mouth_openness(lm)
            params = getattr(out, "params", None)
            return cls(np.asarray(mo, dtype=np.float64).reshape(-1), lm, params)
        arr = np.asarray(out, dtype=np.float64)
        if arr.ndim == 3 and arr.shape[1] == 68:
            return cls(mouth_openness(arr), landmarks=arr)
        return cls(mouth_openness(arr))


def energy_mouth_open(
    *, y, sr: int, fps: float, n_frames: int, smooth_ms: float = 40.0
) -> np.ndarray:
    """Audio-energy baseline: the RMS envelope as the mouth openness.

    Returns
    -------
    ndarray, shape (n_frames,)
        See :func:`rms_envelope`.
    """
    return rms_envelope(y=y, sr=sr, fps=fps, n_frames=n_frames, smooth_ms=smooth_ms)


def energy_predict(*, y, sr: int, fps: float, n_frames: int, **_) -> Prediction:
    """:func:`energy_mouth_open` as a :class:`Prediction`."""
    return Prediction(energy_mouth_open(y=y, sr=sr, fps=fps, n_frames=n_frames))


def mean_face(n_frames: int, *, mean=None, truth=None, valid=None) -> Prediction:
    """Constant predictor: the same face in every frame.

    Parameters
    ----------
    n_frames : int
    mean : array_like, shape (68, 2) or (D,), optional
        The training mean (landmarks when 68x2, else parameters).
    truth : array_like, shape (T, 68, 2), optional
        Used when ``mean`` is None: the clip's own mean over valid frames.
    valid : array_like of bool, shape (T,), optional

    Returns
    -------
    Prediction
        Constant ``mouth_open`` (its correlation with anything is 0) and constant
        landmarks or params.
    """
    if mean is None:
        if truth is None:
            raise InvalidArgumentError("mean=None needs truth=(T, 68, 2) to average")
        tr = np.asarray(truth, dtype=np.float64)
        m = np.ones(len(tr), bool) if valid is None else np.asarray(valid, bool)
        m = m & np.isfinite(tr.reshape(len(tr), -1)).all(axis=1)
        mean = tr[m].mean(axis=0) if m.any() else np.zeros(tr.shape[1:])
    mean = np.asarray(mean, dtype=np.float64)
    tiled = np.broadcast_to(mean, (int(n_frames),) + mean.shape).copy()
    if mean.shape == (68, 2):
        return Prediction(mouth_openness(tiled), landmarks=tiled)
    return Prediction(np.full(int(n_frames), 0.0), params=tiled)


def phonetic_predict(
    *, y, sr: int, fps: float, n_frames: int, transcript: str | None = None, animator=None
) -> Prediction:
    """The phonetic animator's prediction (phone recognition, or alignment with a transcript).

    Returns
    -------
    Prediction
        ``mouth_open`` and ``landmarks`` (in the animator's neutral-face frame)
        and ``extra["phones"]``.
    """
    import warnings

    from ..models.phonetic import PhoneticAnimator

    anim = animator or PhoneticAnimator()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = anim(
            y=mono(y).astype(np.float32), sr=sr, fps=fps, n_frames=n_frames, transcript=transcript
        )
    return Prediction(
        np.asarray(res.mouth_open, dtype=np.float64),
        landmarks=np.asarray(res.landmarks, dtype=np.float64),
        extra={"phones": res.phones},
    )


def smoothed_truth(true_open, *, fps: float, window_ms: float = 120.0) -> Prediction:
    """The true openness smoothed over ``window_ms`` (the ceiling reference)."""
    return Prediction(smooth(true_open, fps=fps, window_ms=window_ms))
