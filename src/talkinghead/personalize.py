"""Personalised talking face from a short video of the person (after Yi et al. 2020).

``personalize(video, person_dir)`` learns, from ~300 frames of one person talking:

1. **Tracking** (Face Mesh): rejected with :class:`~talkinghead.errors.TooFewFramesError`
   when the video has fewer than ``min_frames`` frames (or valid frames) and with
   :class:`~talkinghead.errors.FaceLostError` when the face is missing (or there are
   several) in more than ``max_lost`` (20 %) of them.
2. **Reference frame**: the valid frame that is most frontal (small yaw, pitch near the
   median), has the mouth closed and the eyes open. It is the image that gets warped.
3. **Audio sync**: the video's own audio-video offset is measured
   (:func:`~talkinghead.corpora.sync.speech_sync_offset`) and undone before the audio
   is used (some real clips are 100-250 ms out of sync).
4. **Head pose** (:class:`~talkinghead.models.head_pose.HeadPoseModel`): AR(2) per pose
   channel driven by the person's own speech energy and F0.
5. **Refiner** (:class:`~talkinghead.models.refiner.Refiner`): fine-tuned from the general
   refiner pre-trained on other people (:mod:`talkinghead.recipes.yi2020`); pairs are, for
   every valid frame, the reference frame warped by that frame's TRUE landmarks
   (per-frame eye-pinned, so the expression only) and true 2D head motion (roll and
   shift from the eye centres), versus the real frame, both cropped to one fixed square
   box around the face (the union of the face boxes over the video) and resized to
   ``size``.
6. **Learned mouth** (:class:`~talkinghead.models.mouth_generator.MouthGenerator`,
   issue 18): the shipped learned mouth fine-tuned for ``mouth_steps`` steps on the
   person's own mouth crops (every valid frame, the reference crop drawn from another
   frame of the video), used when the person is rendered with ``mouth="learned"``
   (``mouth_steps=0``: not fine-tuned; ``--mouth learned`` then uses the shipped one).

``PERSON_DIR`` holds ``person.json`` (metadata, reference landmarks, crop box, timings),
``reference.png``, ``head_pose.json``, ``refiner/`` (config.json, model.safetensors,
training_log.jsonl, last/) and ``mouth_generator/`` (config.json, model.safetensors; its
training folder is ``mouth_generator_train/``).

:func:`talkinghead.pipelines.render_person` (speech + PERSON_DIR -> MP4): the default
animator's landmarks drive the warp of the reference frame; the head moves with the pose
generated from the audio by the person's model (roll and image-plane shift, and yaw and
pitch turned in 3D with the canonical face's depth:
:meth:`~talkinghead.render.photo.PhotoAnimator.control_points`); each frame's face box is
refined and pasted back with a feathered edge; the MP4 gets the audio.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._util.atomic import atomic_path, write_text_atomic
from .errors import (
    CheckpointError,
    FaceLostError,
    InvalidArgumentError,
    TooFewFramesError,
)
from .recipes.yi2020 import head_controls, person_pairs

__all__ = ["Person", "personalize", "load_person", "MIN_FRAMES", "MAX_LOST"]

#: Frames a personalisation video needs (Yi et al. use ~300).
MIN_FRAMES = 300
#: Largest share of frames without exactly one face.
MAX_LOST = 0.2
_FORMAT = "talkinghead.person"
_VERSION = 1


# ------------------------------------------------------------------------- geometry


# ------------------------------------------------------------------------- person


@dataclass
class Person:
    """A loaded PERSON_DIR.

    Attributes
    ----------
    path : Path
    meta : dict
        ``person.json``.
    face : PhotoFace
        The reference frame, ready to warp.
    pose_model : HeadPoseModel
    refiner : Refiner or None
        None when the folder has no ``refiner/``.
    mouth_model : MouthGenerator or None
        The person's fine-tuned learned mouth (None when the folder has no
        ``mouth_generator/``).
    """

    path: Path
    meta: dict
    face: object
    pose_model: object
    refiner: object | None
    mouth_model: object | None = None

    @property
    def fps(self) -> float:
        return float(self.meta["fps"])

    @property
    def box(self) -> tuple[int, int, int]:
        """Refined square ``(x0, y0, side)`` in reference-frame pixels."""
        return tuple(int(v) for v in self.meta["crop_box"])

    def pose_to_head(self, pose: np.ndarray) -> np.ndarray:
        """Pose (T, 5) ``yaw, pitch, roll, x, y`` -> warp head motion (T, 5).

        ``roll, dx, dy, yaw, pitch`` relative to the reference frame's pose: roll and
        the image-plane shift of the eye midpoint (the tracked head origin, moved by the
        animator's rotation about the neck compensated), then the out-of-plane turn that
        :meth:`PhotoAnimator.control_points` renders in 3D.
        """
        from .render.photo import PhotoAnimator

        pose = np.asarray(pose, dtype=np.float64)
        ref = np.asarray(self.meta["reference_pose"], dtype=np.float64)
        origin = np.asarray(self.meta["reference_origin"], dtype=np.float64)
        scale = float(self.meta["reference_scale"])
        anchor = origin + (pose[:, 3:5] - ref[3:5]) * scale
        pivot = PhotoAnimator(self.face).pivot
        head = head_controls(
            pose[:, 2] - ref[2], origin, anchor, pivot, self.face.similarity.matrix
        )
        return np.column_stack([head, pose[:, 0] - ref[0], pose[:, 1] - ref[1]])

    def frames(
        self,
        landmarks: np.ndarray,
        *,
        head: np.ndarray | None = None,
        blinks: np.ndarray | None = None,
        refine: bool = True,
        mouth: str = "procedural",
        mouth_model=None,
    ) -> Iterator[np.ndarray]:
        """Rendered frames: warp of the reference (then refined).

        Parameters
        ----------
        landmarks : ndarray, shape (T, 68, 2)
            Eye-pinned driving landmarks (``Animation.landmarks``).
        head : ndarray, shape (T, 3) or (T, 5), optional
            ``roll, dx, dy[, yaw, pitch]`` (see :meth:`pose_to_head`); None: still head.
        blinks : ndarray, shape (T,), optional
            Eyelid closure in [0, 1].
        refine : bool
            Pass the face box through the refiner (when there is one).
        mouth : {"procedural", "learned", "exemplar"}
            The mouth interior (:class:`~talkinghead.render.photo.PhotoAnimator`);
            "learned" generates it with ``mouth_model``, by default the person's own
            fine-tuned generator (:attr:`mouth_model`) or, without one, the shipped one;
            "exemplar" copies it from the bank ``mouth_model``, by default the shipped GRID
            bank (a bank of the person's own mouths was measured and not kept:
            docs/photo.md, session 15).
        mouth_model : MouthGenerator, MouthBank or path, optional

        Yields
        ------
        ndarray, shape (H, W, 3), uint8 RGB
        """
        from .render.photo import PhotoAnimator, refine_face

        lms = np.asarray(landmarks, dtype=np.float64)
        T = len(lms)
        head = np.zeros((T, 3)) if head is None else np.asarray(head, dtype=np.float64)
        blinks = np.zeros(T) if blinks is None else np.asarray(blinks, dtype=np.float64)
        if head.shape not in ((T, 3), (T, 5)) or blinks.shape != (T,):
            raise InvalidArgumentError(
                f"head.shape={head.shape} and blinks.shape={blinks.shape} must be ({T}, 3) "
                f"or ({T}, 5), and ({T},)"
            )
        if mouth not in ("procedural", "learned", "exemplar"):
            raise InvalidArgumentError(
                f"mouth={mouth!r} must be 'procedural', 'learned' or 'exemplar'"
            )
        if mouth == "learned":
            mm = mouth_model if mouth_model is not None else self.mouth_model
            animator = PhotoAnimator(self.face, mouth="learned", mouth_model=mm)
        elif mouth == "exemplar":
            animator = PhotoAnimator(self.face, mouth="exemplar", mouth_model=mouth_model)
        elif mouth_model is not None:
            raise InvalidArgumentError("mouth_model must come with mouth='learned' or 'exemplar'")
        else:
            animator = PhotoAnimator(self.face)
        model = self.refiner if refine else None
        for t in range(T):
            moving = animator.control_points(lms[t], blink=float(blinks[t]), head=tuple(head[t]))
            img = animator.frame(moving)
            yield img if model is None else refine_face(img, self.box, model)


def load_person(person_dir: str | os.PathLike) -> Person:
    """Read a PERSON_DIR written by :func:`personalize`.

    Raises
    ------
    CheckpointError
        A missing or unreadable file (the message names it).
    """
    import cv2

    from .face.normalize import DEFAULT_EYES, SimilarityTransform
    from .models.head_pose import HeadPoseModel
    from .render.photo import PhotoFace

    d = Path(person_dir)
    pj = d / "person.json"
    try:
        meta = json.loads(pj.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"path='{pj}' must exist (a folder from 'personalize')") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"path='{pj}' must be a readable JSON file: {e}") from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise CheckpointError(f"path='{pj}' must have format={_FORMAT!r}")
    rp = d / "reference.png"
    data = np.fromfile(rp, dtype=np.uint8) if rp.is_file() else np.zeros(0, np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise CheckpointError(f"path='{rp}' must be a readable PNG (the reference frame)")
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    lm = np.asarray(meta["reference_landmarks"], dtype=np.float64)
    from .face.landmarks68 import eye_centres_68

    eyes = eye_centres_68(lm)
    face = PhotoFace(
        image=img,
        landmarks=lm,
        forehead=np.asarray(meta["reference_forehead"], dtype=np.float64),
        similarity=SimilarityTransform.from_two_points(np.asarray(DEFAULT_EYES), eyes),
        interocular=float(np.linalg.norm(eyes[1] - eyes[0])),
        yaw=float(np.degrees(meta["reference_pose"][0])),
    )
    pose_model = HeadPoseModel.load(d / "head_pose.json")
    refiner = None
    if (d / "refiner" / "config.json").is_file():
        from .models.refiner import Refiner

        refiner = Refiner.from_pretrained(d / "refiner")
    mouth_model = None
    if (d / "mouth_generator" / "config.json").is_file():
        from .models.mouth_generator import MouthGenerator

        mouth_model = MouthGenerator.from_pretrained(d / "mouth_generator")
    return Person(path=d, meta=meta, face=face, pose_model=pose_model, refiner=refiner,
                  mouth_model=mouth_model)  # fmt: skip


# ------------------------------------------------------------------------- personalize


def _sync(y, sr, fps, track, av_offset) -> dict:
    from .corpora.sync import speech_sync_offset
    from .face.landmarks68 import mouth_openness_68

    if av_offset is None:
        return {"offset_s": 0.0, "source": "none"}
    if isinstance(av_offset, str):
        est = speech_sync_offset(y=y, sr=sr, fps=fps, valid=track.valid,
                                 mouth_open=mouth_openness_68(track.landmarks68))  # fmt: skip
        if est.reliable and abs(est.offset_s) >= 0.5 / fps:
            warnings.warn(
                f"the video's audio is {est.offset_s * 1000:+.0f} ms out of sync with the lips "
                f"(r {est.r_zero:.2f} at 0 ms, {est.r_peak:.2f} at the offset); corrected",
                stacklevel=3,
            )
        return {**est.to_dict(), "source": "auto"}
    return {"offset_s": _check_av_offset(av_offset), "source": "given"}


def _check_av_offset(av_offset):
    """``av_offset`` as given to :func:`personalize`: "auto", None or seconds in [-2, 2]."""
    if av_offset is None or (isinstance(av_offset, str) and av_offset == "auto"):
        return av_offset
    try:
        off = float(av_offset)
    except (TypeError, ValueError):
        off = float("nan")
    if not np.isfinite(off) or abs(off) > 2.0:
        raise InvalidArgumentError(
            f"av_offset={av_offset!r} must be 'auto', None or a number of seconds in [-2, 2]"
        )
    return off


def _refiner_init(init, config):
    """Resolve ``refiner_init``: a checkpoint folder, or None (scratch)."""
    if init is None:
        return None
    if isinstance(init, str) and init == "general":
        from .models.refiner import Refiner
        from .recipes.yi2020 import GENERAL_DIR

        if not (GENERAL_DIR / "config.json").is_file():
            warnings.warn(f"no general refiner at {GENERAL_DIR}; training from scratch",
                          stacklevel=3)  # fmt: skip
            return None
        general = Refiner.from_pretrained(GENERAL_DIR)
        if general.config != config:
            warnings.warn(
                f"the general refiner has {general.config}, this run {config}: training from "
                "scratch", stacklevel=3,
            )  # fmt: skip
            return None
        return GENERAL_DIR
    p = Path(init)
    if not (p / "config.json").is_file():
        raise InvalidArgumentError(
            f"refiner_init='{init}' must be 'general', None or a refiner folder"
        )
    return p


def _mouth_crops(frames, track, size: int) -> dict:
    """The person's mouth crops (every valid frame) as
    :func:`talkinghead.training.mouth_generator_train.train` takes them (one clip)."""
    import cv2

    from .models.mouth_generator import crop_points, mouth_crop_matrix

    lm = np.asarray(track.landmarks68, dtype=np.float64)
    crops, pts = [], []
    for t in np.flatnonzero(track.valid):
        M = mouth_crop_matrix(lm[t], size)
        crops.append(cv2.warpAffine(frames[t], M, (size, size), flags=cv2.INTER_AREA,
                                    borderMode=cv2.BORDER_REFLECT))  # fmt: skip
        pts.append(crop_points(M, lm[t]).astype(np.float32))
    n = len(crops)
    return {"crops": np.stack(crops), "lm": np.stack(pts), "clip": np.zeros(n, int),
            "person": np.asarray(["person"] * n), "ids": np.asarray(["video"])}  # fmt: skip


def _mouth_init(init):
    """Resolve ``mouth_init``: "shipped" (the shipped learned mouth) or a folder."""
    if isinstance(init, str) and init == "shipped":
        from .data import MOUTH_GENERATOR_DIR

        init = MOUTH_GENERATOR_DIR
    p = Path(init)
    if not (p / "config.json").is_file():
        raise InvalidArgumentError(
            f"mouth_init='{init}' must be 'shipped' or a learned-mouth folder (config.json)"
        )
    return p


def personalize(
    video: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    max_frames: int = 500,
    size: int = 256,
    steps: int = 1000,
    min_frames: int = MIN_FRAMES,
    max_lost: float = MAX_LOST,
    frame_size: int | None = 512,
    batch_size: int = 4,
    seed: int = 0,
    refiner_config=None,
    refiner_init="general",
    av_offset="auto",
    mouth_steps: int = 200,
    mouth_init="shipped",
    progress: bool | None = True,
) -> Path:
    """Learn a person's talking face from a short video of them (see the module docstring).

    Parameters
    ----------
    video : str or path
        A video of one person talking, with its audio (>= ``min_frames`` frames).
    out_dir : str or path
        The PERSON_DIR to write.
    max_frames : int
        Use only the first frames.
    size : int
        Side of the refiner's face crops (multiple of 8; 256 as in the paper, 128 trains
        about 4x faster).
    steps : int
        Refiner training steps (a rerun resumes from ``out_dir/refiner/last``).
    min_frames : int
        Least number of (valid) frames (default :data:`MIN_FRAMES` = 300; lower it for
        short clips and tests, at a cost in quality).
    max_lost : float
        Largest share of frames without exactly one face.
    frame_size : int or None
        Downscale frames whose longer side exceeds this (None: native size).
    batch_size, seed
        Refiner training.
    refiner_config : RefinerConfig, optional
        Default ``RefinerConfig(size=size)``.
    refiner_init : "general", str, path or None
        Fine-tune from these refiner weights: "general" (default) is the shipped general
        refiner (:data:`talkinghead.recipes.yi2020.GENERAL_DIR`, 256 px; used when its
        config matches, else training starts from scratch with a warning); None trains
        from scratch.
    av_offset : "auto", float or None
        Seconds the video's audio comes after the lips move: "auto" measures it
        (:func:`talkinghead.corpora.sync.speech_sync_offset`; applied only when
        reliable), a number imposes it, None assumes 0. The audio is shifted by it before
        the head-pose model is fitted; ``person.json`` records it under ``av_sync``.
    mouth_steps : int
        Fine-tuning steps of the learned mouth on the person's mouth crops (batch 16;
        0: none, no ``mouth_generator/``). A rerun resumes.
    mouth_init : "shipped", str or path
        The learned mouth to fine-tune: the shipped one (``data/mouth_generator``) or a
        checkpoint folder.
    progress : bool or None
        Progress bars.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    TooFewFramesError, FaceLostError, NoAudioStreamError
    DependencyError
        Face tracking (mediapipe, ``[tracking]``) or torch (``[train]``) is not installed.
    """
    import cv2

    from .audio.io import load_audio
    from .face.tracking import require_tracking, track_frames

    require_tracking()  # before the video is read and torch imported
    from .models.head_pose import HeadPoseModel, audio_pose_features, track_to_pose
    from .models.refiner import RefinerConfig
    from .training.refiner_train import train_refiner
    from .video.io import probe_video, read_video

    t_start = time.perf_counter()
    max_frames, min_frames = int(max_frames), int(min_frames)
    if max_frames <= 0 or min_frames <= 0:
        raise InvalidArgumentError(
            f"max_frames={max_frames} and min_frames={min_frames} must be positive integers"
        )
    if not 0 <= float(max_lost) < 1:
        raise InvalidArgumentError(f"max_lost={max_lost!r} must be in [0, 1)")
    if int(size) < 32 or int(size) % 8:
        raise InvalidArgumentError(f"size={size!r} must be a multiple of 8, >= 32")
    if int(steps) < 1 or int(batch_size) < 1:  # checked here, not after the tracking
        raise InvalidArgumentError(
            f"steps={steps!r} and batch_size={batch_size!r} must be positive integers"
        )
    _check_av_offset(av_offset)
    mouth_steps = int(mouth_steps)
    if mouth_steps < 0:
        raise InvalidArgumentError(f"mouth_steps={mouth_steps} must be >= 0")
    mouth_src = _mouth_init(mouth_init) if mouth_steps else None
    config = refiner_config or RefinerConfig(size=int(size))
    init = _refiner_init(refiner_init, config)
    info = probe_video(video)
    target = None
    if frame_size is not None and max(info.width, info.height) > int(frame_size):
        target = int(frame_size)
    vid = read_video(video, max_frames=max_frames, size=target)
    frames, fps, T = vid.frames, float(vid.fps), len(vid.frames)
    if T < min_frames:
        raise TooFewFramesError(
            f"video='{video}' has {T} frames (max_frames={max_frames}); personalising needs "
            f">= min_frames={min_frames} (about {min_frames / fps:.0f} s at {fps:g} fps)"
        )
    track = track_frames(frames, fps=fps, progress=progress, total=T)
    n_valid = int(track.valid.sum())
    lost = 1.0 - n_valid / T
    if lost > float(max_lost):
        none = int((track.n_faces == 0).sum())
        raise FaceLostError(
            f"video='{video}': the face is lost in {T - n_valid} of {T} frames ({lost:.0%}: "
            f"{none} without a face, {T - n_valid - none} with several); must be <= "
            f"{float(max_lost):.0%} (max_lost)"
        )
    if n_valid < min_frames:
        raise TooFewFramesError(
            f"video='{video}' has {n_valid} frames with one tracked face (of {T}); "
            f"personalising needs >= min_frames={min_frames}"
        )
    t_track = time.perf_counter() - t_start

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # ---- the person's own audio, aligned with their frames
    y, sr = load_audio(video, sr=16000)
    sync = _sync(y, sr, fps, track, av_offset)
    from .corpora.sync import shift_audio

    y = shift_audio(y, sr=sr, offset_s=sync["offset_s"])
    # ---- head pose from the person's own audio
    feats = audio_pose_features(y=y, sr=sr, fps=fps, n_frames=T)
    pose = track_to_pose(track)
    pose_model = HeadPoseModel.fit(pose, features=feats, fps=fps, valid=track.valid)
    pose_model.meta["source"] = str(video)
    pose_model.save(out / "head_pose.json")

    # ---- reference frame, training pairs
    t0 = time.perf_counter()
    pairs = person_pairs(frames, track, size=int(size), progress=progress)
    face, ref, box, size = pairs.face, pairs.reference_index, pairs.box, int(size)
    ref_img = face.image
    lm = np.asarray(track.landmarks68, dtype=np.float64)
    ok, png = cv2.imencode(".png", cv2.cvtColor(ref_img, cv2.COLOR_RGB2BGR))
    with atomic_path(out / "reference.png") as tmp:
        png.tofile(tmp)
    xs, ys = pairs.inputs, pairs.targets
    t_pairs = time.perf_counter() - t0

    # ---- refiner
    res = train_refiner(xs, ys, out / "refiner", config=config, steps=steps, init=init,
                        batch_size=batch_size, seed=seed, progress=progress)  # fmt: skip

    # ---- the learned mouth, fine-tuned on the person's own mouth crops
    mouth_meta, t_mouth = None, 0.0
    if mouth_steps:
        import shutil

        from .models.mouth_generator import MouthGenerator
        from .training.mouth_generator_train import train as train_mouth

        t0 = time.perf_counter()
        src = MouthGenerator.from_pretrained(mouth_src)
        crops = _mouth_crops(frames, track, src.config.size)
        gen = train_mouth(crops, out / "mouth_generator_train", steps=mouth_steps, lr=5e-4,
                          seed=seed, init=src, lap_weight=1.0, profile_weight=1.0,
                          log=lambda msg: None)  # fmt: skip
        tmp = out / "mouth_generator.new"
        shutil.rmtree(tmp, ignore_errors=True)
        gen.save_pretrained(tmp)
        shutil.rmtree(out / "mouth_generator", ignore_errors=True)
        tmp.rename(out / "mouth_generator")
        t_mouth = time.perf_counter() - t0
        mouth_meta = {"steps": mouth_steps, "init": str(mouth_src), "n_crops": len(crops["crops"]),
                      "size": src.config.size, "lr": 5e-4, "batch_size": 16}  # fmt: skip
    meta = {
        "format": _FORMAT,
        "version": _VERSION,
        "source": str(video),
        "fps": fps,
        "n_frames": T,
        "n_valid": n_valid,
        "frame_size": [int(ref_img.shape[1]), int(ref_img.shape[0])],
        "reference_index": ref,
        "reference_landmarks": lm[ref].tolist(),
        "reference_forehead": face.forehead.tolist(),
        "reference_pose": pose[ref].tolist(),
        "reference_origin": np.asarray(track.translation[ref, :2], dtype=np.float64).tolist(),
        "reference_scale": float(track.scale[ref]),
        "crop_box": list(box),
        "av_sync": sync,
        "mouth_generator": mouth_meta,
        "refiner": {"size": size, "steps": res.steps, "batch_size": int(batch_size),
                    "n_params": res.model.n_params, "seed": int(seed),
                    "init": None if init is None else str(init),
                    "final_l1": res.history[-1]["l1"] if res.history else None},
        "seconds": {"tracking": round(t_track, 1), "pairs": round(t_pairs, 1),
                    "refiner": round(res.seconds, 1), "mouth_generator": round(t_mouth, 1),
                    "total": round(time.perf_counter() - t_start, 1)},
    }  # fmt: skip
    write_text_atomic(out / "person.json", json.dumps(meta, indent=1) + "\n")
    return out
