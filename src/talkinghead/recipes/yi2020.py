"""Yi et al. 2020: the general refiner, pre-trained on many people before per-person tuning.

The paper trains its memory-augmented GAN first on a multi-person data set and then
fine-tunes it on ~300 frames of the target person. This module is the first stage:
:func:`pretrain_refiner` makes (warped reference, real frame) crop pairs from every video
(:func:`talkinghead.personalize.person_pairs`: each video warps its own reference frame),
pools them and trains one :class:`~talkinghead.models.refiner.Refiner` on all of them.
:func:`talkinghead.personalize.personalize` then starts from that model (``refiner_init=
"general"``, the shipped ``data/refiner_general``) instead of random weights.

The rest of the paper lives in :mod:`talkinghead.personalize` (person-specific head pose,
fine-tuning, rendering) and :mod:`talkinghead.models.refiner` (the network).

Layout of ``work_dir``::

    pairs/<name>.npz       inputs, targets (N, S, S, 3) uint8 per video (a rerun reuses them)
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
from ..errors import InvalidArgumentError, TalkingHeadError

__all__ = ["GeneralRefinerResult", "pretrain_refiner", "GENERAL_DIR"]

log = logging.getLogger(__name__)

#: The shipped general refiner (256 px), trained by ``scripts/train_refiner.py``.
GENERAL_DIR = Path(__file__).resolve().parents[1] / "data" / "refiner_general"


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


def _name(path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{path.parent.name}__{path.stem}")


def _video_pairs(path: Path, *, size: int, max_pairs: int, frame_size: int, progress) -> tuple:
    from ..face.tracking import track_frames
    from ..personalize import person_pairs
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
