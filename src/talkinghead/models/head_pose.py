"""A personalised head-pose model learned from one person's video (after Yi et al. 2020).

Yi et al. learn the person's head motion from a short video of them (~300 frames) so that
new speech moves the head the way *that* person moves it. This module is a small,
transparent stand-in for their LSTM: per pose channel, an AR(2) process whose mean follows
speech energy and F0 and whose innovation scale follows speech energy, fitted by least
squares on the person's tracked pose and their own audio.

Pose channels (:data:`POSE_CHANNELS`), per frame:

- ``yaw, pitch, roll``: radians, from ``FaceTrack.euler``;
- ``x, y``: head position in inter-ocular units (``translation[:, :2] / scale``).

Model, for channel ``k`` with centred pose ``z = pose - mean``::

    z[t] = a1 z[t-1] + a2 z[t-2] + b_e e[t] + b_f f[t] + c + sigma[t] n[t],  n ~ N(0, 1)
    sigma[t]^2 = max(s0 + s1 e[t], floor)

with ``e`` the speech energy in [0, ~1.5] and ``f`` the standardised log F0 (0 when
unvoiced) from :func:`audio_pose_features`. Generated poses are soft-limited to the
person's observed range (1st-99th percentile plus a margin). Everything is saved as JSON.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._util.atomic import write_text_atomic
from ..errors import CheckpointError, InvalidArgumentError, check_positive

__all__ = [
    "POSE_CHANNELS",
    "HeadPoseModel",
    "audio_pose_features",
    "track_to_pose",
    "fit_ar",
    "pose_stats",
]

#: Channels of a pose array (T, 5).
POSE_CHANNELS = ("yaw", "pitch", "roll", "x", "y")
_FORMAT = "talkinghead.head_pose"
_VERSION = 1


def audio_pose_features(*, y: np.ndarray, sr: float, fps: float, n_frames: int) -> np.ndarray:
    """Per-frame speech energy and F0 that drive the head.

    Parameters
    ----------
    y : ndarray, shape (n,)
        Mono audio.
    sr : float
    fps : float
    n_frames : int

    Returns
    -------
    ndarray, shape (n_frames, 2), float64
        Column 0: energy, RMS in dB over 50 ms windows mapped so that the clip's 10th
        percentile is 0 and its 95th is 1 (clipped to [0, 1.5]; loudness-independent).
        Column 1: log F0 standardised over the clip's voiced frames (0 when unvoiced).
    """
    from ..audio.features import praat_f0

    sr = check_positive("sr", sr)
    fps = check_positive("fps", fps)
    n_frames = int(n_frames)
    if n_frames <= 0:
        raise InvalidArgumentError(f"n_frames={n_frames!r} must be a positive integer")
    y = np.nan_to_num(np.asarray(y, dtype=np.float64).reshape(-1))
    times = (np.arange(n_frames) + 0.5) / fps
    win = max(8, int(round(0.05 * sr)))
    c = np.round(times * sr).astype(np.int64)
    cs = np.concatenate([[0.0], np.cumsum(y * y)])
    lo = np.clip(c - win // 2, 0, len(y))
    hi = np.clip(c + win // 2, 0, len(y))
    ms = (cs[hi] - cs[lo]) / np.maximum(hi - lo, 1)
    db = 10 * np.log10(ms + 1e-10)
    p10, p95 = np.percentile(db, 10), np.percentile(db, 95)
    energy = np.clip((db - p10) / max(p95 - p10, 6.0), 0.0, 1.5)
    f0 = praat_f0(y, sr, times, 60.0, 500.0) if len(y) else np.zeros(n_frames)
    voiced = f0 > 0
    f = np.zeros(n_frames)
    if voiced.sum() >= 2:
        lf = np.log(f0[voiced])
        f[voiced] = (lf - lf.mean()) / max(lf.std(), 1e-3)
    return np.stack([energy, np.clip(f, -3, 3)], axis=1)


def track_to_pose(track) -> np.ndarray:
    """A face track's head pose as (T, 5) ``yaw, pitch, roll, x, y`` (NaN where no face).

    Angles in radians; ``x, y`` = ``translation[:, :2] / scale`` (inter-ocular units).
    """
    eul = np.asarray(track.euler, dtype=np.float64)
    sc = np.asarray(track.scale, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        xy = np.asarray(track.translation, dtype=np.float64)[:, :2] / sc[:, None]
    pose = np.concatenate([eul, xy], axis=1)
    pose[~np.asarray(track.valid, bool)] = np.nan
    return pose


def fit_ar(
    z: np.ndarray, exog: np.ndarray | None = None, *, valid: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares AR(2) with exogenous regressors for one channel.

    Parameters
    ----------
    z : ndarray, shape (T,)
    exog : ndarray, shape (T, E), optional
        Regressors at time ``t`` (a constant is always added).
    valid : ndarray, shape (T,), bool, optional
        Rows used need ``t, t-1, t-2`` valid and finite.

    Returns
    -------
    coef : ndarray, shape (2 + E + 1,)
        ``a1, a2, exog coefficients..., constant``.
    resid : ndarray, shape (T,)
        Residuals (NaN on rows not used).
    used : ndarray, shape (T,), bool
    """
    z = np.asarray(z, dtype=np.float64)
    T = len(z)
    ex = np.zeros((T, 0)) if exog is None else np.asarray(exog, dtype=np.float64).reshape(T, -1)
    ok = np.isfinite(z) & np.all(np.isfinite(ex), axis=1)
    if valid is not None:
        ok &= np.asarray(valid, bool)
    used = np.zeros(T, bool)
    used[2:] = ok[2:] & ok[1:-1] & ok[:-2]
    n_coef = 3 + ex.shape[1]
    if used.sum() < 2 * n_coef:
        raise InvalidArgumentError(
            f"pose has {int(used.sum())} usable frames (3 valid in a row); must be >= {2 * n_coef}"
        )
    idx = np.flatnonzero(used)
    X = np.column_stack([z[idx - 1], z[idx - 2], ex[idx], np.ones(len(idx))])
    coef, *_ = np.linalg.lstsq(X, z[idx], rcond=None)
    # keep the process stationary: shrink the AR part until its roots are inside |r| < 0.995
    a = coef[:2].copy()
    for _ in range(50):
        r = np.abs(np.roots([1.0, -a[0], -a[1]]))
        if r.max() < 0.995:
            break
        a *= 0.98
    coef[:2] = a
    resid = np.full(T, np.nan)
    resid[idx] = z[idx] - X @ coef
    return coef, resid, used


@dataclass
class HeadPoseModel:
    """Per-person head-pose generator (see the module docstring).

    Attributes
    ----------
    fps : float
        Frame rate it was fitted at (generation uses the same per-frame dynamics).
    mean : ndarray, shape (5,)
        The person's mean pose.
    std : ndarray, shape (5,)
        Standard deviation of the person's pose.
    low, high : ndarray, shape (5,)
        Soft limits (1st / 99th percentile widened by 25 % of the range).
    coef : ndarray, shape (5, 5)
        Per channel ``a1, a2, b_energy, b_f0, constant``.
    noise : ndarray, shape (5, 2)
        Per channel ``s0, s1`` of the innovation variance ``s0 + s1 * energy``.
    noise_floor : ndarray, shape (5,)
        Smallest innovation variance.
    meta : dict
    """

    fps: float
    mean: np.ndarray
    std: np.ndarray
    low: np.ndarray
    high: np.ndarray
    coef: np.ndarray
    noise: np.ndarray
    noise_floor: np.ndarray
    meta: dict = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        pose: np.ndarray,
        *,
        features: np.ndarray,
        fps: float,
        valid: np.ndarray | None = None,
        smooth_sigma: float = 1.0,
    ) -> HeadPoseModel:
        """Fit the model to a person's pose track and the matching audio features.

        Parameters
        ----------
        pose : ndarray, shape (T, 5)
            From :func:`track_to_pose` (NaN rows are skipped).
        features : ndarray, shape (T, 2)
            From :func:`audio_pose_features` of the same clip.
        fps : float
        valid : ndarray, shape (T,), bool, optional
        smooth_sigma : float
            Gaussian smoothing (frames) of the pose before fitting, against tracker
            jitter (0: none). Gaps are filled by interpolation for smoothing only.
        """
        from scipy.ndimage import gaussian_filter1d

        fps = check_positive("fps", fps)
        pose = np.asarray(pose, dtype=np.float64)
        feats = np.asarray(features, dtype=np.float64)
        if pose.ndim != 2 or pose.shape[1] != len(POSE_CHANNELS):
            raise InvalidArgumentError(f"pose.shape={pose.shape} must be (T, 5)")
        if feats.shape != (len(pose), 2):
            raise InvalidArgumentError(
                f"features.shape={feats.shape} must be ({len(pose)}, 2) (energy, F0 per frame)"
            )
        ok = np.all(np.isfinite(pose), axis=1)
        if valid is not None:
            ok &= np.asarray(valid, bool)
        if ok.sum() < 20:
            raise InvalidArgumentError(f"pose has {int(ok.sum())} valid frames; must be >= 20")
        p = pose.copy()
        if smooth_sigma > 0:
            t = np.arange(len(p))
            for k in range(p.shape[1]):
                p[:, k] = np.interp(t, t[ok], pose[ok, k])
                p[:, k] = gaussian_filter1d(p[:, k], smooth_sigma, mode="nearest")
        mean = p[ok].mean(0)
        std = p[ok].std(0)
        q1, q99 = np.percentile(p[ok], 1, axis=0), np.percentile(p[ok], 99, axis=0)
        span = np.maximum(q99 - q1, 1e-6)
        coef = np.zeros((5, 5))
        noise = np.zeros((5, 2))
        floor = np.zeros(5)
        for k in range(5):
            c, r, used = fit_ar(p[:, k] - mean[k], feats, valid=ok)
            coef[k] = c
            r2 = r[used] ** 2
            E = np.column_stack([np.ones(used.sum()), feats[used, 0]])
            s, *_ = np.linalg.lstsq(E, r2, rcond=None)
            floor[k] = 0.1 * float(r2.mean())
            noise[k] = s
        return cls(
            fps=float(fps),
            mean=mean,
            std=std,
            low=q1 - 0.25 * span,
            high=q99 + 0.25 * span,
            coef=coef,
            noise=noise,
            noise_floor=floor,
            meta={"n_frames": int(len(pose)), "n_valid": int(ok.sum()),
                  "smooth_sigma": float(smooth_sigma)},
        )  # fmt: skip

    def generate(self, features: np.ndarray, *, seed: int = 0, burn_in: int = 50) -> np.ndarray:
        """Generate a pose sequence for new audio.

        Parameters
        ----------
        features : ndarray, shape (T, 2)
            From :func:`audio_pose_features` at ``self.fps``.
        seed : int
        burn_in : int
            Frames simulated (with the first frame's features) before ``t = 0``.

        Returns
        -------
        ndarray, shape (T, 5)
            ``yaw, pitch, roll`` radians, ``x, y`` inter-ocular units.
        """
        f = np.asarray(features, dtype=np.float64)
        if f.ndim != 2 or f.shape[1] != 2:
            raise InvalidArgumentError(f"features.shape={f.shape} must be (T, 2)")
        T = len(f)
        if T == 0:
            return np.zeros((0, 5))
        rng = np.random.default_rng(seed)
        f = np.nan_to_num(f)
        full = np.concatenate([np.repeat(f[:1], burn_in, axis=0), f])
        n = rng.standard_normal((len(full), 5))
        z = np.zeros((len(full), 5))
        var = np.maximum(self.noise[:, 0] + self.noise[:, 1] * full[:, :1], self.noise_floor)
        drive = full @ self.coef[:, 2:4].T + self.coef[:, 4]
        a1, a2 = self.coef[:, 0], self.coef[:, 1]
        for t in range(len(full)):
            z1 = z[t - 1] if t >= 1 else 0.0
            z2 = z[t - 2] if t >= 2 else 0.0
            z[t] = a1 * z1 + a2 * z2 + drive[t] + np.sqrt(var[t]) * n[t]
        pose = z[burn_in:] + self.mean
        # soft limits: tanh squashing of what goes beyond the range's core
        c = (self.high + self.low) / 2
        h = np.maximum((self.high - self.low) / 2, 1e-9)
        return c + h * np.tanh((pose - c) / h)

    # ----------------------------------------------------------------- persistence
    def to_dict(self) -> dict:
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "channels": list(POSE_CHANNELS),
            "fps": self.fps,
            **{k: np.asarray(getattr(self, k)).tolist()
               for k in ("mean", "std", "low", "high", "coef", "noise", "noise_floor")},
            "meta": self.meta,
        }  # fmt: skip

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model as JSON (atomically)."""
        return write_text_atomic(path, json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> HeadPoseModel:
        """Read a JSON file written by :meth:`save`."""
        p = Path(path)
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CheckpointError(f"path='{p}' must exist (head-pose model)") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CheckpointError(f"path='{p}' must be a readable JSON file: {e}") from None
        if not isinstance(d, dict) or d.get("format") != _FORMAT or d.get("version") != _VERSION:
            raise CheckpointError(f"path='{p}' must have format={_FORMAT!r} and version={_VERSION}")
        try:
            arr = {
                k: np.asarray(d[k], dtype=np.float64)
                for k in ("mean", "std", "low", "high", "coef", "noise", "noise_floor")
            }
            shapes = {"coef": (5, 5), "noise": (5, 2)}
            for k, a in arr.items():
                if a.shape != shapes.get(k, (5,)):
                    raise ValueError(f"{k} has shape {a.shape}")
            return cls(fps=float(d["fps"]), meta=dict(d.get("meta", {})), **arr)
        except (KeyError, TypeError, ValueError) as e:
            raise CheckpointError(f"path='{p}' is not a valid head-pose model: {e}") from None


def pose_stats(pose: np.ndarray, energy: np.ndarray | None = None) -> dict:
    """Summary statistics of a pose sequence, per channel.

    Parameters
    ----------
    pose : ndarray, shape (T, 5)
    energy : ndarray, shape (T,), optional

    Returns
    -------
    dict
        ``std`` (5,), ``vel_std`` (5,) per-frame velocity std, ``range`` (5,)
        (5th-95th percentile), and ``energy_corr`` (5,) Pearson r of the pose with
        the energy (when given); lists of floats, NaN rows skipped.
    """
    p = np.asarray(pose, dtype=np.float64)
    ok = np.all(np.isfinite(p), axis=1)
    v = np.diff(p, axis=0)
    vok = ok[1:] & ok[:-1]
    out = {
        "std": p[ok].std(0).tolist(),
        "vel_std": v[vok].std(0).tolist(),
        "range": (np.percentile(p[ok], 95, 0) - np.percentile(p[ok], 5, 0)).tolist(),
    }
    if energy is not None:
        e = np.asarray(energy, dtype=np.float64)[ok]
        corr = []
        for k in range(p.shape[1]):
            x = p[ok, k]
            d = x.std() * e.std()
            corr.append(float(((x - x.mean()) * (e - e.mean())).mean() / d) if d > 0 else 0.0)
        out["energy_corr"] = corr
    return out
