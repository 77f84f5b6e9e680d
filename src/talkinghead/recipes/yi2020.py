"""Yi et al. 2020: the general refiner, pre-trained on many people before per-person tuning.

The paper trains its memory-augmented GAN first on a multi-person data set and then
fine-tunes it on ~300 frames of the target person. This module is the first stage:
:func:`pretrain_refiner` makes (warped reference, real frame) crop pairs from every video
(:func:`person_pairs`: each video warps its own reference frame),
pools them and trains one :class:`~talkinghead.models.refiner.Refiner` on all of them.
:func:`talkinghead.personalize.personalize` then starts from that model (``refiner_init=
"general"``, the shipped ``data/refiner_general``) instead of random weights.

The rest of the paper lives in :mod:`talkinghead.personalize` (person-specific head pose,
fine-tuning, rendering) and :mod:`talkinghead.models.refiner` (the network).

Layout of ``work_dir``::

    pairs/<name>.npz       inputs, targets (N, S, S, 3) uint8 per video (a rerun reuses them)
    prepared_pairs_<S>.npz pairs of prepared clips (:func:`prepared_pairs`, the script caches)
    pairs.log              one line per video: done / failed with the reason
    train/                 train_refiner's folder (resumable: train/last/)
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._util.atomic import atomic_path
from ..data import REFINER_GENERAL_DIR
from ..errors import FaceLostError, InvalidArgumentError, TalkingHeadError

__all__ = [
    "GeneralRefinerResult",
    "pretrain_refiner",
    "prepared_clips",
    "prepared_pairs",
    "GENERAL_DIR",
    "PersonPairs",
    "person_pairs",
    "pick_reference",
    "crop_box",
    "eye_pinned",
    "head_controls",
]

log = logging.getLogger(__name__)

#: The shipped general refiner (256 px), trained by ``scripts/train_refiner.py``.
GENERAL_DIR = REFINER_GENERAL_DIR


@dataclass
class GeneralRefinerResult:
    """What :func:`pretrain_refiner` did.

    Attributes
    ----------
    model : Refiner
    n_pairs : int
        Training pairs pooled over the videos.
    videos : dict
        ``name -> number of pairs`` of each usable video.
    failed : dict
        ``name -> reason`` of each video that gave no pairs.
    seconds : dict
        ``pairs`` and ``train`` wall times.
    """

    model: object
    n_pairs: int
    videos: dict = field(default_factory=dict)
    failed: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)


# ------------------------------------------------------------------ training pairs


def eye_pinned(lm: np.ndarray) -> np.ndarray:
    """Per-frame eye pinning: (T, 68, 2) pixels -> eye centres at DEFAULT_EYES."""
    from ..face.landmarks68 import eye_centres_68
    from ..face.normalize import DEFAULT_EYES, SimilarityTransform

    out = np.full(lm.shape, np.nan)
    for t in range(len(lm)):
        if np.all(np.isfinite(lm[t])):
            tf = SimilarityTransform.from_two_points(
                eye_centres_68(lm[t]), np.asarray(DEFAULT_EYES)
            )
            out[t] = tf.apply(lm[t])
    return out


def head_controls(roll, anchor_ref, anchor, pivot, matrix) -> np.ndarray:
    """(roll, dx, dy) per frame so that ``anchor_ref`` lands on ``anchor`` (T, 2) px.

    :meth:`PhotoAnimator.control_points` rotates about ``pivot`` by ``roll`` and then
    shifts by ``matrix @ (dx, dy)``.
    """
    roll = np.asarray(roll, dtype=np.float64)
    c, s = np.cos(roll), np.sin(roll)
    v = np.asarray(anchor_ref, dtype=np.float64) - pivot
    rotated = np.stack([c * v[0] - s * v[1], s * v[0] + c * v[1]], axis=1) + pivot
    shift = np.asarray(anchor, dtype=np.float64) - rotated
    d = shift @ np.linalg.inv(matrix).T
    return np.nan_to_num(np.column_stack([roll, d]))


def pick_reference(track) -> int:
    """The most frontal valid frame with the mouth closed and the eyes open."""
    from ..face.landmarks68 import mouth_openness_68

    lm = np.asarray(track.landmarks68, dtype=np.float64)
    eul = np.asarray(track.euler, dtype=np.float64)
    ok = np.flatnonzero(track.valid)
    mouth = mouth_openness_68(lm[ok])
    eye = np.linalg.norm(lm[ok][:, [37, 38, 43, 44]] - lm[ok][:, [41, 40, 47, 46]], axis=2).mean(1)
    eye = eye / np.median(eye)
    score = (
        np.abs(eul[ok, 0]) / 0.05
        + np.abs(eul[ok, 1] - np.median(eul[ok, 1])) / 0.05
        + np.abs(eul[ok, 2] - np.median(eul[ok, 2])) / 0.05
        + np.maximum(mouth, 0) / 0.02
        + 3.0 * np.maximum(0.85 - eye, 0) / 0.15
    )
    return int(ok[np.argmin(score)])


def crop_box(track, shape: tuple[int, int]) -> tuple[int, int, int]:
    """One fixed square ``(x0, y0, side)`` around every valid frame's face and forehead."""
    from ..render.photo import FOREHEAD, square_box

    pts = np.concatenate(
        [track.landmarks68[track.valid], track.mesh[track.valid][:, list(FOREHEAD), :2]], axis=1
    )
    return square_box(np.nanmin(pts, axis=(0, 1)), np.nanmax(pts, axis=(0, 1)), shape)


@dataclass
class PersonPairs:
    """Refiner training pairs of one tracked video (:func:`person_pairs`).

    Attributes
    ----------
    face : PhotoFace
        The reference frame, ready to warp.
    reference_index : int
        Its frame index.
    box : tuple of int
        The fixed square crop ``(x0, y0, side)`` in frame pixels.
    frame_index : ndarray, shape (N,)
        The frame of each pair.
    inputs, targets : ndarray, shape (N, size, size, 3), uint8 RGB
        The reference warped by the frame's true expression and 2D head motion, and the
        real frame, both cropped to ``box``.
    """

    face: object
    reference_index: int
    box: tuple[int, int, int]
    frame_index: np.ndarray
    inputs: np.ndarray
    targets: np.ndarray


def person_pairs(
    frames: np.ndarray,
    track,
    *,
    size: int = 256,
    max_pairs: int | None = None,
    progress: bool | None = None,
) -> PersonPairs:
    """(warped reference, real frame) crop pairs of one person's tracked video.

    The reference is the most frontal valid frame with the mouth closed and the eyes open;
    the input of frame ``t`` is the reference warped by ``t``'s true landmarks (per-frame
    eye-pinned: the expression only) plus its true 2D head motion (roll and shift of the
    eye centres); the target is frame ``t``. Both are cropped to one fixed square around
    the face (the union of the face boxes) and resized to ``size``.

    Parameters
    ----------
    frames : ndarray, shape (T, H, W, 3), uint8 RGB
    track : FaceTrack
        ``track_frames(frames)``.
    size : int
    max_pairs : int, optional
        Keep at most this many pairs, evenly spaced over the valid frames.
    progress : bool or None

    Returns
    -------
    PersonPairs
    """
    from .._util.progress import progress as _progress
    from ..face.landmarks68 import eye_centres_68
    from ..face.normalize import DEFAULT_EYES, SimilarityTransform, neutral_face_68
    from ..render.photo import FOREHEAD, PhotoAnimator, PhotoFace, crop_square

    if not np.any(track.valid):
        raise FaceLostError("track has no valid frame: no training pairs can be made")
    ref = pick_reference(track)
    lm = np.asarray(track.landmarks68, dtype=np.float64)
    ref_eyes = eye_centres_68(lm[ref])
    face = PhotoFace(
        image=frames[ref],
        landmarks=lm[ref],
        forehead=np.asarray(track.mesh[ref][list(FOREHEAD), :2], dtype=np.float64),
        similarity=SimilarityTransform.from_two_points(np.asarray(DEFAULT_EYES), ref_eyes),
        interocular=float(np.linalg.norm(ref_eyes[1] - ref_eyes[0])),
        yaw=float(np.degrees(track.euler[ref, 0])),
    )
    box = crop_box(track, frames[ref].shape[:2])
    animator = PhotoAnimator(face)
    pinned = eye_pinned(lm)
    idx = np.flatnonzero(track.valid)
    if max_pairs is not None and len(idx) > int(max_pairs):
        idx = idx[np.round(np.linspace(0, len(idx) - 1, int(max_pairs))).astype(int)]
    eyes = eye_centres_68(lm[idx])  # (N, 2, 2)
    d_ref = ref_eyes[1] - ref_eyes[0]
    d = eyes[:, 1] - eyes[:, 0]
    roll = np.arctan2(d[:, 1], d[:, 0]) - np.arctan2(d_ref[1], d_ref[0])
    heads = head_controls(
        roll, ref_eyes.mean(0), eyes.mean(1), animator.pivot, face.similarity.matrix
    )
    size = int(size)
    xs = np.zeros((len(idx), size, size, 3), np.uint8)
    ys = np.zeros_like(xs)
    for i, t in enumerate(_progress(idx, total=len(idx), desc="render pairs", unit="frame",
                                    enabled=progress)):  # fmt: skip
        drv = pinned[t] - pinned[ref] + neutral_face_68()
        img = animator.frame(animator.control_points(drv, head=tuple(heads[i])))
        xs[i] = crop_square(img, box, size)
        ys[i] = crop_square(frames[t], box, size)
    return PersonPairs(face=face, reference_index=int(ref), box=box, frame_index=idx,
                       inputs=xs, targets=ys)  # fmt: skip


def prepared_clips(prepared, *, keep=None) -> dict:
    """Clips of prepared corpora (``talkinghead prepare``) grouped by person.

    Parameters
    ----------
    prepared : sequence of str or path
        Prepared folders (``clips.jsonl``, ``recordings.jsonl``, ``arrays/``).
    keep : callable, optional
        ``keep(recording_id, person) -> bool``; None keeps every clip with status "ok".

    Returns
    -------
    dict
        ``person -> [(clip record, recording record, arrays path), ...]`` sorted by
        person, each list in corpus order.
    """
    from ..corpora.manifest import iter_accepted
    from ..corpora.people import recording_person

    out: dict = {}
    for c, rec, path in iter_accepted(prepared):
        person = recording_person(rec)
        if keep is None or keep(rec["id"], person):
            out.setdefault(person, []).append((c, rec, path))
    return dict(sorted(out.items()))


def _clip_track(arrays: Path, fps: float, scale: float):
    """A :class:`~talkinghead.face.tracking.FaceTrack` from a prepared clip's arrays,
    its pixel coordinates multiplied by ``scale``."""
    from ..face.tracking import FaceTrack

    with np.load(arrays) as z:
        a = {k: z[k] for k in ("times", "mesh", "landmarks68", "rotation", "translation",
                               "scale", "confidence", "n_faces", "valid")}  # fmt: skip
    a["mesh"] = a["mesh"] * scale
    a["landmarks68"] = a["landmarks68"] * scale
    a["translation"] = a["translation"] * scale
    a["scale"] = a["scale"] * scale
    a["valid"] = a["valid"].astype(bool) & np.isfinite(a["landmarks68"]).all(axis=(1, 2))
    return FaceTrack(fps=fps, width=0, height=0, source=str(arrays), **a)


def _clip_frames(rec: dict, clip: dict, n: int, frame_size: int) -> tuple[np.ndarray, float]:
    """The ``n`` frames of a prepared clip (RGB, longer side <= ``frame_size``) and the
    factor they were scaled by."""
    import cv2

    cap = cv2.VideoCapture(rec["video"])
    start = int(clip.get("start_frame", 0))
    if start:
        cap.set(cv2.CAP_PROP_POS_FRAMES, start)
    frames, f = [], 1.0
    for _ in range(n):
        ok, fr = cap.read()
        if not ok:
            break
        h, w = fr.shape[:2]
        if max(h, w) > frame_size:
            f = frame_size / max(h, w)
            fr = cv2.resize(fr, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
        frames.append(cv2.cvtColor(fr, cv2.COLOR_BGR2RGB))
    cap.release()
    return np.stack(frames) if frames else np.zeros((0, 1, 1, 3), np.uint8), f


def prepared_pairs(
    clips: list,
    *,
    size: int = 256,
    max_pairs: int = 32,
    max_clips: int = 4,
    frame_size: int = 512,
) -> PersonPairs | None:
    """Refiner pairs (:func:`person_pairs`) of one person's prepared clips.

    Uses the clips' stored Face Mesh tracks (no re-tracking): up to ``max_clips`` clips
    (the longest), ``max_pairs`` pairs shared among them, each clip warping its own
    reference frame. Returns the pooled pairs (``face``, ``box`` and
    ``reference_index`` of the first clip; ``frame_index`` within each clip) or None
    when no clip gave a pair.
    """
    picked = sorted(clips, key=lambda c: -int(c[0].get("n_frames", 0)))[: int(max_clips)]
    per = max(1, int(max_pairs) // len(picked))
    parts = []
    for clip, rec, arrays in picked:
        with np.load(arrays) as z:
            n = len(z["valid"])
        frames, f = _clip_frames(rec, clip, n, int(frame_size))
        if len(frames) < n:
            log.warning("prepared clip %s: %d of %d frames decoded", clip["id"], len(frames), n)
            continue
        track = _clip_track(arrays, float(clip.get("fps") or rec.get("fps") or 25.0), f)
        if track.valid.sum() < 2:
            continue
        parts.append(person_pairs(frames, track, size=size, max_pairs=per, progress=False))
    if not parts:
        return None
    p0 = parts[0]
    return PersonPairs(
        face=p0.face, reference_index=p0.reference_index, box=p0.box,
        frame_index=np.concatenate([p.frame_index for p in parts]),
        inputs=np.concatenate([p.inputs for p in parts]),
        targets=np.concatenate([p.targets for p in parts]),
    )  # fmt: skip


def _name(path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{path.parent.name}__{path.stem}")


def _video_pairs(path: Path, *, size: int, max_pairs: int, frame_size: int, progress) -> tuple:
    from ..face.tracking import track_frames
    from ..video.io import probe_video, read_video

    info = probe_video(path)
    target = frame_size if max(info.width, info.height) > frame_size else None
    vid = read_video(path, size=target)
    track = track_frames(vid.frames, fps=vid.fps, progress=False)
    if track.valid.sum() < 10:
        raise InvalidArgumentError(
            f"video='{path}' has {int(track.valid.sum())} frames with one tracked face; "
            "must have >= 10"
        )
    p = person_pairs(vid.frames, track, size=size, max_pairs=max_pairs, progress=progress)
    return p.inputs, p.targets


def pretrain_refiner(
    videos,
    work_dir: str | os.PathLike,
    *,
    size: int = 256,
    steps: int = 1500,
    max_pairs_per_video: int = 40,
    frame_size: int = 512,
    batch_size: int = 4,
    seed: int = 0,
    adv_start: float = 0.2,
    config=None,
    progress: bool | None = True,
) -> GeneralRefinerResult:
    """Train the general refiner on pairs from many people's videos.

    Parameters
    ----------
    videos : sequence of str or path
        Talking-face videos (one person each; several videos may show one person).
    work_dir : str or path
        Cache and training folder (see the module docstring); a rerun resumes.
    size : int
        Crop side (256: the ``personalize`` default; fine-tuning needs the same size).
    steps : int
        Training steps.
    max_pairs_per_video : int
        Pairs taken from each video, evenly spaced over its valid frames.
    frame_size : int
        Frames whose longer side exceeds this are downscaled first.
    batch_size, seed, adv_start, config
        As :func:`~talkinghead.training.refiner_train.train_refiner`.
    progress : bool or None

    Returns
    -------
    GeneralRefinerResult

    Raises
    ------
    InvalidArgumentError
        No video gave a pair.
    """
    from .._util.progress import progress as _progress
    from ..training.refiner_train import train_refiner

    work = Path(work_dir)
    (work / "pairs").mkdir(parents=True, exist_ok=True)
    paths = [Path(v) for v in videos]
    if not paths:
        raise InvalidArgumentError("videos must name at least one video")
    xs, ys, used, failed = [], [], {}, {}
    t0 = time.perf_counter()
    logf = work / "pairs.log"
    for path in _progress(paths, total=len(paths), desc="pairs", unit="video", enabled=progress):
        name = _name(path)
        cache = work / "pairs" / f"{name}.npz"
        try:
            if cache.is_file():
                with np.load(cache) as z:
                    x, y = z["inputs"], z["targets"]
            else:
                x, y = _video_pairs(path, size=size, max_pairs=max_pairs_per_video,
                                    frame_size=frame_size, progress=False)  # fmt: skip
                with atomic_path(cache) as tmp:
                    with open(tmp, "wb") as fh:
                        np.savez(fh, inputs=x, targets=y)
            if x.shape[1:] != (size, size, 3):
                raise InvalidArgumentError(
                    f"cache='{cache}' holds crops of {x.shape[1:3]}; size={size} (delete the cache)"
                )
        except (TalkingHeadError, OSError, ValueError) as e:
            failed[name] = f"{type(e).__name__}: {e}"
            log.warning("general refiner: %s gave no pairs: %s", path, e)
            with open(logf, "a", encoding="utf-8") as fh:
                fh.write(f"failed {name}: {failed[name]}\n")
            continue
        xs.append(x)
        ys.append(y)
        used[name] = len(x)
        with open(logf, "a", encoding="utf-8") as fh:
            fh.write(f"done {name} pairs={len(x)}\n")
    if not xs:
        raise InvalidArgumentError(
            f"videos: none of the {len(paths)} videos gave a training pair ({failed})"
        )
    t_pairs = time.perf_counter() - t0
    x_all, y_all = np.concatenate(xs), np.concatenate(ys)
    del xs, ys
    res = train_refiner(x_all, y_all, work / "train", config=config, steps=steps,
                        batch_size=batch_size, seed=seed, adv_start=adv_start,
                        progress=progress)  # fmt: skip
    return GeneralRefinerResult(
        model=res.model, n_pairs=len(x_all), videos=used, failed=failed,
        seconds={"pairs": round(t_pairs, 1), "train": round(res.seconds, 1)},
    )  # fmt: skip
