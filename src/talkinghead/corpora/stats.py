"""Corpus statistics of a prepared folder: hours, clips, speakers, emotions, rejections.

:func:`corpus_stats` returns a dict; :func:`format_stats` prints it; :func:`stats_figure`
draws an overview PNG (mouth aperture distribution, head pose ranges) with matplotlib's
Agg backend.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np

from ..errors import MediaError
from .manifest import read_clips, read_recordings

__all__ = ["corpus_stats", "format_stats", "stats_figure"]


def corpus_stats(out_dir: str | os.PathLike, *, max_clips: int | None = 2000) -> dict:
    """Statistics of a prepared corpus folder.

    Parameters
    ----------
    out_dir : path
        Folder written by ``talkinghead prepare``.
    max_clips : int or None
        Read the arrays of at most this many ok clips (evenly spread) for the aperture
        and pose distributions (None: all).

    Returns
    -------
    dict
        ``hours`` (ok clips), ``hours_total``, ``recordings``, ``clips``, ``ok``,
        ``rejected``, ``speakers`` (count), ``speaker_clips``, ``emotions``,
        ``frames`` / ``frames_valid`` / ``frames_rejected``, ``rejection_reasons``,
        ``flags``, ``lip_aperture`` (percentiles), ``pose_deg`` (per axis percentiles).

    Raises
    ------
    MediaError
        ``out_dir`` holds no ``recordings.jsonl``.
    """
    out = Path(out_dir)
    if not (out / "recordings.jsonl").is_file():
        raise MediaError(
            f"out_dir={str(out)!r} must be a folder written by 'talkinghead prepare' "
            "(recordings.jsonl is missing)"
        )
    recs = {r.id: r for r in read_recordings(out)}
    clips = read_clips(out)
    ok = [c for c in clips if c.status == "ok"]
    rej = [c for c in clips if c.status != "ok"]
    sec = lambda cs: sum(c.n_frames / c.fps for c in cs if c.fps)  # noqa: E731
    spk = Counter(recs[c.recording].speaker or "unknown" for c in ok if c.recording in recs)
    emo = Counter(recs[c.recording].emotion for c in ok if c.recording in recs)
    reasons = Counter(r.split(" (")[0].split("=")[0].split(":")[0] for c in rej for r in c.reasons)
    flags = Counter(f for c in clips for f in c.flags)
    aps, rots = _sample_arrays(out, ok, max_clips)
    valid = sum(round(c.qc.get("valid_fraction", 0.0) * c.n_frames) for c in ok)
    stats = {
        "out_dir": str(out),
        "hours": sec(ok) / 3600,
        "hours_total": sec(clips) / 3600,
        "recordings": len(recs),
        "clips": len(clips),
        "ok": len(ok),
        "rejected": len(rej),
        "speakers": len(spk),
        "speaker_clips": dict(sorted(spk.items())),
        "emotions": {str(k): v for k, v in sorted(emo.items(), key=lambda kv: str(kv[0])) if k},
        "frames": int(sum(c.n_frames for c in clips)),
        "frames_ok": int(sum(c.n_frames for c in ok)),
        "frames_valid": int(valid),
        "frames_rejected": int(sum(c.n_frames for c in rej)),
        "rejection_reasons": dict(sorted(reasons.items())),
        "flags": dict(sorted(flags.items())),
        "with_audio": sum(1 for c in ok if c.recording in recs and recs[c.recording].has_audio),
    }
    if len(aps):
        stats["lip_aperture"] = {
            f"p{q}": float(np.percentile(aps, q)) for q in (1, 5, 25, 50, 75, 95, 99)
        }
    if len(rots):
        deg = _euler_deg(rots)
        stats["pose_deg"] = {
            axis: {
                "p1": float(np.percentile(deg[:, i], 1)),
                "p50": float(np.percentile(deg[:, i], 50)),
                "p99": float(np.percentile(deg[:, i], 99)),
            }
            for i, axis in enumerate(("yaw", "pitch", "roll"))
        }
    stats["_aperture"], stats["_rotation"] = aps, rots
    return stats


def _sample_arrays(out: Path, ok, max_clips) -> tuple[np.ndarray, np.ndarray]:
    pick = ok
    if max_clips is not None and len(ok) > max_clips:
        idx = np.linspace(0, len(ok) - 1, max_clips).round().astype(int)
        pick = [ok[i] for i in idx]
    aps, rots = [], []
    for c in pick:
        p = out / str(c.path)
        if not p.is_file():
            continue
        with np.load(p) as z:
            v = z["valid"].astype(bool)
            aps.append(z["lip_aperture"][v])
            rots.append(z["rotation"][v])
    ap = np.concatenate(aps) if aps else np.zeros(0)
    rot = np.concatenate(rots) if rots else np.zeros((0, 3))
    return ap[np.isfinite(ap)], rot[np.isfinite(rot).all(axis=1)]


def _euler_deg(rotvec: np.ndarray) -> np.ndarray:
    """Head rotation vectors (N, 3), radians -> (yaw, pitch, roll) in degrees."""
    from ..face.geometry import rotation_to_euler

    return np.degrees(np.stack(rotation_to_euler(np.asarray(rotvec, dtype=np.float64)), -1))


def format_stats(stats: dict) -> str:
    """A printable summary of :func:`corpus_stats`."""
    lines = [
        f"corpus: {stats['out_dir']}",
        f"hours: {stats['hours']:.3f} accepted ({stats['hours_total']:.3f} in all clips)",
        f"recordings: {stats['recordings']}  clips: {stats['clips']} "
        f"({stats['ok']} ok, {stats['rejected']} rejected; {stats['with_audio']} with audio)",
        f"speakers: {stats['speakers']}",
        f"frames: {stats['frames']} ({stats['frames_ok']} in ok clips, {stats['frames_valid']} "
        f"valid; {stats['frames_rejected']} in rejected clips)",
    ]
    if stats["emotions"]:
        lines.append("emotions: " + ", ".join(f"{k} {v}" for k, v in stats["emotions"].items()))
    if stats["rejection_reasons"]:
        lines.append(
            "rejected because: "
            + ", ".join(f"{k} ({v})" for k, v in stats["rejection_reasons"].items())
        )
    if stats["flags"]:
        lines.append("flags: " + ", ".join(f"{k} {v}" for k, v in stats["flags"].items()))
    if "lip_aperture" in stats:
        a = stats["lip_aperture"]
        lines.append(f"lip aperture: median {a['p50']:.3f}, 5-95% {a['p5']:.3f}-{a['p95']:.3f}")
    if "pose_deg" in stats:
        lines.append(
            "head pose 1-99% (deg): "
            + ", ".join(
                f"{k} {v['p1']:+.1f}..{v['p99']:+.1f}" for k, v in stats["pose_deg"].items()
            )
        )
    return "\n".join(lines) + "\n"


def stats_figure(stats: dict, path: str | os.PathLike) -> Path:
    """Write an overview PNG: lip aperture histogram, head pose ranges, clips per speaker."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .._util.atomic import atomic_path

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    ap = stats.get("_aperture", np.zeros(0))
    ax = axes[0]
    if len(ap):
        ax.hist(ap, bins=50, color="tab:red", alpha=0.8)
    ax.set_title(f"lip aperture (valid frames: {len(ap)})")
    ax.set_xlabel("inner-lip gap / outer eye-corner distance")
    rot = stats.get("_rotation", np.zeros((0, 3)))
    ax = axes[1]
    if len(rot):
        deg = _euler_deg(rot)
        ax.boxplot([deg[:, i] for i in range(3)], whis=(1, 99), showfliers=False)
        ax.set_xticks([1, 2, 3], ["yaw", "pitch", "roll"])
    ax.set_title("head pose (deg), whiskers 1-99%")
    ax = axes[2]
    spk = stats.get("speaker_clips", {})
    names = list(spk)[:30]
    ax.bar(range(len(names)), [spk[n] for n in names], color="tab:blue")
    ax.set_xticks(range(len(names)), names, rotation=60, fontsize=7, ha="right")
    ax.set_ylabel("ok clips per speaker")
    ax.set_title(
        f"{stats['ok']} ok / {stats['rejected']} rejected clips, {stats['hours'] * 60:.1f} min"
    )
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    return path
