"""Training recipe of the default model (:mod:`talkinghead.models.default`).

Data: any talking-face videos with their audio. Each is tracked with Face Mesh
(:func:`talkinghead.face.tracking.track_video`, ``size=256``); the target is the
per-clip z-scored inner-lip gap (:func:`talkinghead.face.landmarks68.mouth_openness_mesh`)
on the frames with a face. Inputs: Whisper tiny.en encoder features at the frame times
(:func:`talkinghead.audio.whisper.whisper_encoder_features`), normalised per utterance,
standardised over the training set, stacked over +-``context`` frames.

Model: ridge regression (closed form, ``(X'X + lam I) w = X'y``) with a bias column;
the features are first reduced to ``pca`` = 128 principal components (folded back into
full-size weights when saved); ``lam`` = 3e4 by default (chosen on the
leave-one-speaker-out protocol of ``docs/default_model.md``). The fit of 600 GRID s1
clips + 21 other clips takes ~1 min once the features exist; tracking dominates
(``scripts/train_default.py``).

Clip caches (``.npz``: ``openness`` (T,), ``valid`` (T,), ``fps``, ``features`` (T, 384))
are written atomically by :func:`prepare_clip` and reused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidArgumentError

__all__ = [
    "DEFAULT_LAMBDA",
    "DEFAULT_OFFSETS",
    "TrainClip",
    "prepare_clip",
    "zscore_target",
    "fit_default_model",
]

#: Ridge penalty (on standardised, PCA-reduced, context-stacked features).
DEFAULT_LAMBDA = 3e4
#: Principal components of the standardised features kept before stacking.
DEFAULT_PCA = 128
#: Context frames stacked around frame t.
DEFAULT_OFFSETS = tuple(range(-4, 5))


@dataclass
class TrainClip:
    """One training clip.

    Attributes
    ----------
    id : str
    speaker : str
        Speaker label (leave-one-speaker-out folds group by it).
    fps : float
    features : np.ndarray, float32, shape (T, 384)
    openness : np.ndarray, float64, shape (T,)
        Tracked inner-lip gap, NaN where no face.
    valid : np.ndarray, bool, shape (T,)
    audio : path, optional
        Where the clip's speech is (to compute other front ends' features).
    """

    id: str
    speaker: str
    fps: float
    features: np.ndarray
    openness: np.ndarray
    valid: np.ndarray
    audio: str | os.PathLike | None = None


def prepare_clip(
    video: str | os.PathLike,
    *,
    cache_dir: str | os.PathLike,
    audio: str | os.PathLike | None = None,
    speaker: str = "",
    size: int | None = 256,
) -> TrainClip:
    """Track a video, compute its features, cache both (reused on the next call).

    Parameters
    ----------
    video : path
    cache_dir : path
        Folder of the ``.npz`` caches (one per clip, named after the video).
    audio : path, optional
        Audio file (default: the video's own track).
    speaker : str
    size : int or None
        Tracking resolution (longer side in pixels; None: full size).

    Returns
    -------
    TrainClip
    """
    from .._util.atomic import save_npz_atomic
    from ..audio.io import load_audio
    from ..audio.whisper import whisper_encoder_features
    from ..face.landmarks68 import mouth_openness_mesh
    from ..face.tracking import track_video

    video = Path(video)
    key = "__".join(video.parts[-3:]).replace(".", "_")
    cache = Path(cache_dir) / f"{key}.npz"
    if cache.is_file():
        with np.load(cache) as z:
            return TrainClip(
                video.stem, speaker, float(z["fps"]), z["features"], z["openness"], z["valid"]
            )
    tr = track_video(video, size=size, progress=False)
    op = np.asarray(mouth_openness_mesh(tr.mesh), dtype=np.float64)
    valid = np.asarray(tr.valid, bool) & np.isfinite(op)
    op[~valid] = np.nan
    y, sr = load_audio(audio if audio is not None else video, sr=16000)
    feats = whisper_encoder_features(y=y, sr=sr, fps=tr.fps, n_frames=len(valid))
    save_npz_atomic(cache, fps=np.float64(tr.fps), features=feats, openness=op, valid=valid)
    return TrainClip(video.stem, speaker, float(tr.fps), feats, op, valid)


def zscore_target(openness: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per-clip z-score of the openness over ``valid`` frames (0 elsewhere), shape (T,)."""
    o = np.asarray(openness, dtype=np.float64)
    v = np.asarray(valid, bool) & np.isfinite(o)
    out = np.zeros_like(o)
    if v.sum() > 2:
        out[v] = (o[v] - o[v].mean()) / (o[v].std() + 1e-9)
    return out


def fit_default_model(
    clips: list[TrainClip],
    *,
    lam: float = DEFAULT_LAMBDA,
    offsets=DEFAULT_OFFSETS,
    pca: int | None = DEFAULT_PCA,
    weights: dict[str, float] | None = None,
    meta: dict | None = None,
    student=None,
):
    """Fit the ridge read-out on ``clips``.

    Parameters
    ----------
    clips : list of TrainClip
    lam : float
        Ridge penalty (> 0).
    offsets : sequence of int
    pca : int or None
        Principal components kept (None: all features).
    weights : dict, optional
        Per-speaker sample weight (default 1).
    meta : dict, optional
        Stored in the checkpoint's config.
    student : talkinghead.models.student.SpeechStudent, optional
        The front end whose features ``clips`` hold (None: Whisper's).

    Returns
    -------
    talkinghead.models.default.DefaultModel
    """
    from ..models.default import DefaultModel, calibrate_zscore, stack_context

    if not clips:
        raise InvalidArgumentError("clips=[] must hold at least one training clip")
    if lam <= 0:
        raise InvalidArgumentError(f"lam={lam!r} must be > 0")
    normed = [DefaultModel.utterance_normalize(c.features) for c in clips]
    allf = np.concatenate(normed)
    mu, sd = allf.mean(axis=0), allf.std(axis=0) + 1e-6
    P = np.eye(mu.size)
    if pca is not None and pca < mu.size:
        _, _, vt = np.linalg.svd((allf[::3] - mu) / sd, full_matrices=False)
        P = vt[: int(pca)].T  # (F, pca)
    D = P.shape[1] * len(offsets) + 1
    A = np.zeros((D, D))
    b = np.zeros(D)
    for c, x in zip(clips, normed, strict=True):
        sw = (weights or {}).get(c.speaker, 1.0)
        X = stack_context(((x - mu) / sd) @ P, offsets).astype(np.float32)
        X = np.concatenate([X, np.ones((len(X), 1))], axis=1)
        v = np.asarray(c.valid, bool) & np.isfinite(c.openness)
        y = zscore_target(c.openness, c.valid)
        Xv = X[v]
        A += sw * (Xv.T @ Xv).astype(np.float64)
        b += sw * Xv.T.astype(np.float64) @ y[v]
    coef = np.linalg.solve(A + lam * np.eye(D), b)
    # quantile calibration of the output on the training frames (see DefaultModel)
    preds, trues = [], []
    for c, x in zip(clips, normed, strict=True):
        X = stack_context(((x - mu) / sd) @ P, offsets)
        v = np.asarray(c.valid, bool) & np.isfinite(c.openness)
        preds.append((X @ coef[:-1] + coef[-1])[v])
        trues.append(zscore_target(c.openness, c.valid)[v])
    cal = calibrate_zscore(np.concatenate(preds), np.concatenate(trues))
    k = P.shape[1]
    w = np.concatenate([P @ coef[i * k : (i + 1) * k] for i in range(len(offsets))])
    info = {
        "lambda": lam,
        "pca": pca,
        "n_clips": len(clips),
        "n_frames": int(sum(len(c.valid) for c in clips)),
    }
    info.update(meta or {})
    return DefaultModel(w, coef[-1], mu, sd, offsets, info, student=student, calibration=cal)
