"""Quality control of prepared clips: face presence, track jumps, audio, A/V sync.

Per clip, :func:`clip_qc` measures

- ``valid_fraction``, ``no_face_fraction``, ``multi_face_fraction``: of the tracked frames;
- ``jumps``: consecutive valid frames whose 68 landmarks move on average by more than
  ``jump_k`` x the inter-ocular distance (outer eye corners), a sign of a lost or
  swapped track;
- ``duration_mismatch_s``: audio duration minus video duration (seconds);
- ``av_offset_s`` and ``av_peak_r``: the lag that maximises the Pearson correlation
  between the lip aperture (:func:`~talkinghead.face.landmarks68.mouth_openness_mesh`)
  and the audio RMS envelope at the video frame rate, searched within
  ``+-max_lag_s`` (see :func:`estimate_av_offset`); positive: the audio is late;
- ``rms_dbfs`` (audio level) and ``clipped_fraction`` (samples at |y| >= 0.999);
- ``speech_offset_s``, ``speech_peak_r``, ``speech_zero_r``: the same lag found with the
  mouth opening the default speech animator predicts from the audio
  (:func:`talkinghead.corpora.sync.speech_sync_offset`), far sharper than the envelope.
  A reliable offset of at least ``max_speech_offset_s`` (on clips under 2.5 s: confirmed
  by the envelope) rejects the clip (reason ``audio offset``; :func:`sync_verdict`): its
  audio does not match its mouth. (The spcnz/lip-reading GRID copies of
  ``../shared/data/hunt``, whose envelope peaks at -240 to -400 ms, measure in sync
  here: peak r ~0.8 at 0 ms; GRID s1 clips in sync peak at -320 ms with the envelope.)

and returns ``flags`` (kept, but reported) and ``reasons`` (rejected). Thresholds live in
:class:`QCConfig`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from ..audio.energy import frame_rms

__all__ = [
    "QCConfig",
    "estimate_av_offset",
    "track_jumps",
    "clip_qc",
    "speech_sync_check",
    "sync_verdict",
    "summarize_qc",
    "format_qc_summary",
]


@dataclass(frozen=True)
class QCConfig:
    """Thresholds of the quality checks.

    Attributes
    ----------
    min_valid_fraction : float
        Reject a clip with fewer valid (one face) frames than this fraction (0.5).
    jump_k : float
        A track jump is a mean landmark displacement above ``jump_k`` x inter-ocular
        distance between consecutive frames (0.3).
    max_jump_fraction : float
        Flag ``track_jumps`` when more than this fraction of frame pairs jump (0.02).
    max_multi_face_fraction : float
        Flag ``multiple_faces`` above this fraction of frames (0.1).
    max_duration_mismatch_s : float
        Flag ``duration_mismatch`` when |audio - video| duration exceeds this (0.2 s).
    max_lag_s : float
        Search range of the A/V offset (+-0.5 s).
    max_offset_s : float
        Flag ``av_offset`` when |offset| is at least this (0.2 s) ...
    min_gain_r : float
        ... and the peak correlation beats the zero-lag one by at least this (0.15).
        On 3 s clips the correlation curve is broad and its peak wanders: without this
        margin ~20% of the (synchronous) GRID clips would be flagged, with it ~5%.
    min_peak_r : float
        Flag ``av_uncorrelated`` when the peak correlation is below this (0.2).
    use_diff : bool
        Correlate first differences of aperture and envelope instead of the signals.
    silence_dbfs : float
        Flag ``silent_audio`` when the overall RMS is below this level (-50 dBFS).
    clip_level : float
        A sample is clipped when ``|y| >= clip_level`` (0.999).
    max_clipped_fraction : float
        Flag ``clipped_audio`` above this fraction of clipped samples (0.001).
    speech_sync : bool
        Measure the offset with the speech animator (True; needs the default model).
    max_speech_offset_s : float
        Reject a clip whose speech-sync offset is reliable and at least this large
        (0.2 s; 5 frames at 25 fps: ordinary clips measure within +-80 ms) ...
    max_sync_disagreement_s : float
        ... and, on clips shorter than ``min_speech_only_s`` (2.5 s), within this of the
        envelope estimate (0.12 s; see :func:`sync_verdict`).
    min_speech_only_s : float
        Clips at least this long are rejected on the speech-sync offset alone (2.5 s).
    speech_min_r, speech_min_gain : float
        Reliability of the speech-sync peak (:func:`~talkinghead.corpora.sync.speech_sync_offset`:
        peak r >= 0.3 and at least 0.1 above the zero-lag r).
    """

    min_valid_fraction: float = 0.5
    jump_k: float = 0.3
    max_jump_fraction: float = 0.02
    max_multi_face_fraction: float = 0.1
    max_duration_mismatch_s: float = 0.2
    max_lag_s: float = 0.5
    max_offset_s: float = 0.2
    min_gain_r: float = 0.15
    min_peak_r: float = 0.2
    use_diff: bool = False
    silence_dbfs: float = -50.0
    clip_level: float = 0.999
    max_clipped_fraction: float = 0.001
    speech_sync: bool = True
    max_speech_offset_s: float = 0.2
    max_sync_disagreement_s: float = 0.12
    min_speech_only_s: float = 2.5
    speech_min_r: float = 0.3
    speech_min_gain: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)


def _zscore(x: np.ndarray) -> np.ndarray:
    m = np.isfinite(x)
    out = np.full(x.shape, np.nan)
    if m.sum() < 2:
        return out
    sd = x[m].std()
    if sd <= 1e-12:
        return out
    out[m] = (x[m] - x[m].mean()) / sd
    return out


def estimate_av_offset(
    *,
    aperture: np.ndarray,
    envelope: np.ndarray,
    fps: float,
    max_lag_s: float = 0.5,
    use_diff: bool = False,
    min_overlap: int = 10,
) -> tuple[float, float, float]:
    """Estimate the audio-video offset by cross-correlating lip aperture and audio envelope.

    For each lag ``L`` (frames) within ``+-round(max_lag_s * fps)``, the Pearson r between
    ``aperture[t]`` and ``envelope[t + L]`` over the frames where both are finite; the
    envelope is log-compressed (``log(rms + 1e-4)``) and both are z-scored first.

    Parameters
    ----------
    aperture : ndarray, shape (T,)
        Lip aperture per video frame (NaN where no face).
    envelope : ndarray, shape (T,)
        Audio RMS envelope per video frame (:func:`talkinghead.audio.energy.frame_rms`).
    fps : float
    max_lag_s : float
    use_diff : bool
        Correlate the first differences (removes slow drifts).
    min_overlap : int
        Lags with fewer common finite frames are skipped.

    Returns
    -------
    offset_s : float
        ``L / fps`` at the peak; positive: the audio comes later than the mouth motion.
        NaN when nothing could be correlated.
    peak_r : float
        The correlation at the peak (NaN when nothing could be correlated).
    zero_r : float
        The correlation at lag 0.
    """
    a = np.asarray(aperture, dtype=np.float64).reshape(-1)
    e = np.log(np.asarray(envelope, dtype=np.float64).reshape(-1) + 1e-4)
    n = min(len(a), len(e))
    a, e = a[:n], e[:n]
    if use_diff:
        a, e = np.diff(a), np.diff(e)
        n -= 1
    a, e = _zscore(a), _zscore(e)
    max_lag = int(round(max_lag_s * fps))
    best = (math.nan, -math.inf)
    zero_r = math.nan
    for lag in range(-max_lag, max_lag + 1):
        if lag >= 0:
            x, z = a[: n - lag], e[lag:]
        else:
            x, z = a[-lag:], e[: n + lag]
        m = np.isfinite(x) & np.isfinite(z)
        if m.sum() < min_overlap:
            continue
        xs, zs = x[m] - x[m].mean(), z[m] - z[m].mean()
        den = math.sqrt(float((xs * xs).sum() * (zs * zs).sum()))
        if den <= 1e-12:
            continue
        r = float((xs * zs).sum() / den)
        if lag == 0:
            zero_r = r
        if r > best[1]:
            best = (lag / fps, r)
    if not math.isfinite(best[1]):
        return math.nan, math.nan, zero_r
    return float(best[0]), float(best[1]), zero_r


def track_jumps(landmarks68: np.ndarray, valid: np.ndarray, *, k: float = 0.3) -> np.ndarray:
    """Indices ``t`` where frame ``t-1 -> t`` (both valid) jumps by more than ``k`` x IOD.

    The jump size is the mean point displacement over the 68 landmarks divided by the
    inter-ocular distance (points 36-45) of frame ``t-1``.
    """
    lm = np.asarray(landmarks68, dtype=np.float64)
    v = np.asarray(valid, dtype=bool)
    if len(lm) < 2:
        return np.zeros(0, dtype=np.int64)
    disp = np.linalg.norm(lm[1:] - lm[:-1], axis=-1).mean(axis=-1)
    iod = np.linalg.norm(lm[:-1, 36] - lm[:-1, 45], axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = disp / iod
    both = v[1:] & v[:-1] & np.isfinite(rel)
    return (np.nonzero(both & (rel > k))[0] + 1).astype(np.int64)


def _finite(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def clip_qc(
    *,
    n_faces: np.ndarray,
    valid: np.ndarray,
    landmarks68: np.ndarray,
    aperture: np.ndarray,
    fps: float,
    y: np.ndarray | None = None,
    sr: float | None = None,
    audio_start_s: float = 0.0,
    video_duration_s: float | None = None,
    audio_duration_s: float | None = None,
    config: QCConfig | None = None,
) -> tuple[dict, list[str], list[str]]:
    """Measure one clip's quality.

    Parameters
    ----------
    n_faces, valid : ndarray, shape (T,)
        Faces found per frame and the valid mask (exactly one face) of the track.
    landmarks68 : ndarray, shape (T, 68, 2)
    aperture : ndarray, shape (T,)
        Lip aperture per frame (NaN where invalid).
    fps : float
    y, sr : audio of the recording (mono) and its rate, or None without audio.
    audio_start_s : float
        Time in ``y`` of the clip's first frame (windows of a long recording).
    video_duration_s, audio_duration_s : float or None
        Whole-recording durations for the mismatch check (None: not checked).
    config : QCConfig

    Returns
    -------
    qc : dict
        JSON-ready measures (NaN written as None).
    flags : list of str
        Kept-but-flagged problems.
    reasons : list of str
        Rejection reasons (empty: the clip is accepted).
    """
    cfg = config or QCConfig()
    n_faces = np.asarray(n_faces)
    valid = np.asarray(valid, dtype=bool)
    t = len(valid)
    qc: dict = {"frames": int(t)}
    flags: list[str] = []
    reasons: list[str] = []
    if t == 0:
        return qc, flags, ["no frames decoded"]
    qc["valid_fraction"] = float(valid.mean())
    qc["no_face_fraction"] = float((n_faces == 0).mean())
    qc["multi_face_fraction"] = float((n_faces > 1).mean())
    jumps = track_jumps(landmarks68, valid, k=cfg.jump_k)
    qc["jumps"] = int(len(jumps))
    if not valid.any() and (n_faces == 0).all():
        reasons.append("no face found in any frame")
    elif qc["valid_fraction"] < cfg.min_valid_fraction:
        reasons.append(
            f"valid_fraction={qc['valid_fraction']:.2f} below {cfg.min_valid_fraction} "
            f"(no face in {qc['no_face_fraction']:.0%}, several faces in "
            f"{qc['multi_face_fraction']:.0%} of frames)"
        )
    if qc["multi_face_fraction"] > cfg.max_multi_face_fraction:
        flags.append("multiple_faces")
    if t > 1 and len(jumps) / (t - 1) > cfg.max_jump_fraction:
        flags.append("track_jumps")

    if y is None:
        flags.append("no_audio")
        return qc, flags, reasons
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    start = int(round(audio_start_s * sr))
    seg = y[start : start + int(round(t / fps * sr))]
    if video_duration_s is not None and audio_duration_s is not None:
        qc["duration_mismatch_s"] = float(audio_duration_s - video_duration_s)
        if abs(qc["duration_mismatch_s"]) > cfg.max_duration_mismatch_s:
            flags.append("duration_mismatch")
    rms = float(np.sqrt(np.mean(seg * seg))) if len(seg) else 0.0
    qc["rms_dbfs"] = float(20 * math.log10(max(rms, 1e-10)))
    qc["clipped_fraction"] = float(np.mean(np.abs(seg) >= cfg.clip_level)) if len(seg) else 0.0
    if qc["rms_dbfs"] < cfg.silence_dbfs:
        flags.append("silent_audio")
    if qc["clipped_fraction"] > cfg.max_clipped_fraction:
        flags.append("clipped_audio")
    env = frame_rms(y=y[start:], sr=sr, fps=fps, n_frames=t)
    ap = np.where(valid, np.asarray(aperture, dtype=np.float64), np.nan)
    off, peak, zero = estimate_av_offset(
        aperture=ap, envelope=env, fps=fps, max_lag_s=cfg.max_lag_s, use_diff=cfg.use_diff
    )
    qc["av_offset_s"], qc["av_peak_r"], qc["av_zero_lag_r"] = (
        _finite(off),
        _finite(peak),
        _finite(zero),
    )
    if "silent_audio" not in flags and valid.sum() >= 10:
        if qc["av_offset_s"] is None or qc["av_peak_r"] is None:
            flags.append("av_uncorrelated")
        else:
            gain = qc["av_peak_r"] - (qc["av_zero_lag_r"] or 0.0)
            if abs(qc["av_offset_s"]) >= cfg.max_offset_s - 1e-9 and gain >= cfg.min_gain_r:
                flags.append("av_offset")
            if qc["av_peak_r"] < cfg.min_peak_r:
                flags.append("av_uncorrelated")
    if cfg.speech_sync and "silent_audio" not in flags and valid.sum() >= 10:
        qc.update(speech_sync_check(y=seg, sr=sr, fps=fps, aperture=ap, valid=valid, config=cfg))
        f, r = sync_verdict(qc, cfg, duration_s=t / fps)
        flags += f
        reasons += r
    return qc, flags, reasons


def sync_verdict(
    qc: dict, config: QCConfig | None = None, *, duration_s: float | None = None
) -> tuple[list[str], list[str]]:
    """Flags and rejection reasons of the A/V offset from a clip's stored measures.

    A clip is rejected (``audio offset ...``) when the speech-sync offset is reliable and
    at least ``max_speech_offset_s``, and either the clip lasts at least
    ``min_speech_only_s`` or the envelope estimate (``av_offset_s``) agrees within
    ``max_sync_disagreement_s``. On shorter clips (single words) the animator's peak can
    wander while the envelope, one burst against one mouth movement, stays sharp at 0:
    an unconfirmed offset there is only flagged ``speech_offset``. (On sentences the
    envelope is the unreliable one: GRID s1 clips in sync peak at -320 ms with it.)

    Parameters
    ----------
    qc : dict
        The clip's measures (``speech_offset_s``, ``speech_reliable``, ``speech_peak_r``,
        ``speech_zero_r``, ``av_offset_s``).
    config : QCConfig
    duration_s : float, optional
        The clip's length (None: treated as a short clip, the envelope must agree).

    Returns
    -------
    flags, reasons : list of str
    """
    cfg = config or QCConfig()
    so, ao = qc.get("speech_offset_s"), qc.get("av_offset_s")
    if not qc.get("speech_reliable") or so is None or abs(so) < cfg.max_speech_offset_s:
        return [], []
    agree = ao is not None and abs(ao - so) <= cfg.max_sync_disagreement_s
    if agree or (duration_s is not None and duration_s >= cfg.min_speech_only_s):
        env = f"; envelope peak {ao * 1000:+.0f} ms" if ao is not None else ""
        return [], [
            f"audio offset={so * 1000:+.0f} ms (speech sync r {qc['speech_peak_r']:.2f} at the "
            f"peak vs {qc['speech_zero_r']:.2f} at lag 0{env})"
        ]
    return ["speech_offset"], []


def speech_sync_check(
    *,
    y: np.ndarray,
    sr: float,
    fps: float,
    aperture: np.ndarray,
    valid: np.ndarray,
    config: QCConfig | None = None,
) -> dict:
    """Audio-video offset of one clip measured with the speech animator.

    Parameters
    ----------
    y : ndarray, shape (n,)
        The clip's audio (starting at its first frame), mono.
    sr, fps : float
    aperture : ndarray, shape (T,)
        Tracked lip aperture (NaN where invalid).
    valid : ndarray of bool, shape (T,)
    config : QCConfig

    Returns
    -------
    dict
        ``speech_offset_s`` (the peak lag, + = audio late; None when nothing could be
        correlated), ``speech_peak_r``, ``speech_zero_r``, ``speech_max_lag_s`` (the
        search range: ``max_lag_s``, at most a third of the clip) and ``speech_reliable``
        (:class:`~talkinghead.corpora.sync.SyncEstimate`'s reliability, and the peak
        lies more than 1.5 frames inside the search range).
    """
    from .sync import speech_sync_offset

    cfg = config or QCConfig()
    y = np.asarray(y, dtype=np.float32).reshape(-1)
    a = np.asarray(aperture, dtype=np.float64)
    # lags keep at least 2/3 of the frames in common: on a 1.5 s single word a shift of
    # 0.5 s leaves a few frames whose correlation can be high by chance
    max_lag_s = min(cfg.max_lag_s, np.floor(len(a) / 3) / fps)
    n = int(round(len(a) / fps * sr))
    if len(y) < n:  # the animator must see as many frames as the clip has
        y = np.concatenate([y, np.zeros(n - len(y), np.float32)])
    try:
        est = speech_sync_offset(
            y=y,
            sr=int(sr),
            fps=float(fps),
            mouth_open=np.where(np.isfinite(a), a, 0.0),
            valid=np.asarray(valid, dtype=bool) & np.isfinite(a),
            max_lag_ms=max_lag_s * 1000.0,
            min_r=cfg.speech_min_r,
            min_gain=cfg.speech_min_gain,
        )
    except Exception as e:  # noqa: BLE001 - a failed estimate is reported, never fatal
        return {
            "speech_offset_s": None,
            "speech_peak_r": None,
            "speech_zero_r": None,
            "speech_reliable": False,
            "speech_error": f"{type(e).__name__}: {e}",
        }
    # a peak at the end of the search range is no estimate (the true one may lie beyond)
    interior = bool(np.isfinite(est.measured_s)) and abs(est.measured_s) < max_lag_s - 1.5 / fps
    return {
        "speech_offset_s": _finite(est.measured_s),
        "speech_peak_r": _finite(est.r_peak),
        "speech_zero_r": _finite(est.r_zero),
        "speech_reliable": bool(est.reliable and interior),
        "speech_max_lag_s": float(max_lag_s),
    }


def summarize_qc(clips: list) -> dict:
    """Summary over clips (dicts or :class:`~talkinghead.corpora.manifest.Clip`)."""
    ds = [c.to_dict() if hasattr(c, "to_dict") else c for c in clips]
    ok = [d for d in ds if d["status"] == "ok"]
    rej = [d for d in ds if d["status"] != "ok"]
    frames = sum(d["n_frames"] for d in ds)
    flags = Counter(f for d in ds for f in d.get("flags", []))
    reasons = Counter(r.split(" (")[0].split("=")[0] for d in rej for r in d.get("reasons", []))
    offs = [d["qc"].get("av_offset_s") for d in ok if d["qc"].get("av_offset_s") is not None]
    return {
        "clips": len(ds),
        "ok": len(ok),
        "rejected": len(rej),
        "frames": int(frames),
        "frames_ok": int(sum(d["n_frames"] for d in ok)),
        "frames_rejected": int(sum(d["n_frames"] for d in rej)),
        "valid_frames_ok": int(
            sum(round(d["qc"].get("valid_fraction", 0) * d["n_frames"]) for d in ok)
        ),
        "flags": dict(sorted(flags.items())),
        "rejection_reasons": dict(sorted(reasons.items())),
        "rejected_clips": {d["id"]: d.get("reasons", []) for d in rej},
        "flagged_clips": {d["id"]: d["flags"] for d in ds if d.get("flags")},
        "av_offset_s_median": float(np.median(offs)) if offs else None,
    }


def format_qc_summary(summary: dict) -> str:
    """A human-readable text version of :func:`summarize_qc`."""
    lines = [
        f"clips: {summary['clips']} ({summary['ok']} ok, {summary['rejected']} rejected)",
        f"frames: {summary['frames']} ({summary['frames_ok']} in ok clips, "
        f"{summary['valid_frames_ok']} of them valid; {summary['frames_rejected']} rejected)",
    ]
    if summary["av_offset_s_median"] is not None:
        lines.append(
            f"median A/V offset of ok clips: {summary['av_offset_s_median'] * 1000:+.0f} ms"
        )
    if summary["flags"]:
        lines.append("flags: " + ", ".join(f"{k} {v}" for k, v in summary["flags"].items()))
    for cid, reasons in summary["rejected_clips"].items():
        lines.append(f"REJECTED {cid}: " + "; ".join(reasons))
    for cid, fl in summary["flagged_clips"].items():
        lines.append(f"flagged {cid}: " + ", ".join(fl))
    return "\n".join(lines) + "\n"
