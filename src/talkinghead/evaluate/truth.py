"""Ground truth for evaluation: :class:`ClipTruth`, from a prepared corpus or straight from a video.

A :class:`ClipTruth` holds plain arrays (tracked face, validity, audio, labels), so
the metrics run on any source: a prepared corpus clip (:func:`truth_from_corpus_clip`)
or a video tracked on the fly (:func:`truth_from_video`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InvalidArgumentError, MediaError
from ..face.landmarks68 import mesh_to_68, mouth_openness_68, mouth_openness_mesh

__all__ = ["ClipTruth", "truth_from_video", "truth_from_corpus_clip", "track_mesh"]


@dataclass
class ClipTruth:
    """One evaluation clip: the tracked real face, its audio and labels.

    Attributes
    ----------
    id : str
    fps : float
    valid : np.ndarray of bool, shape (T,)
        Frames with a tracked face.
    mesh : np.ndarray, shape (T, 468, 3), optional
        Face Mesh points (pixels); preferred for the mouth openness.
    landmarks : np.ndarray, shape (T, 68, 2), optional
        68 landmarks (pixels); derived from ``mesh`` when absent.
    y : np.ndarray, shape (n,), optional
        Mono audio aligned with frame 0 (``y[0]`` is at time 0 of the clip).
    sr : int, optional
    transcript, emotion, speaker : str, optional
    params : np.ndarray, shape (T, D), optional
        True parameters / codes, when the model predicts such (scored with MSE / CORR).
    extra : dict
    """

    id: str
    fps: float
    valid: np.ndarray
    mesh: np.ndarray | None = None
    landmarks: np.ndarray | None = None
    y: np.ndarray | None = None
    sr: int | None = None
    transcript: str | None = None
    emotion: str | None = None
    speaker: str | None = None
    params: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.valid = np.asarray(self.valid, dtype=bool).reshape(-1)
        if self.mesh is None and self.landmarks is None:
            raise InvalidArgumentError(f"clip {self.id!r}: mesh or landmarks must be given")
        if self.landmarks is None:
            self.landmarks = mesh_to_68(np.asarray(self.mesh, dtype=np.float64)[..., :2])
        for name in ("mesh", "landmarks"):
            a = getattr(self, name)
            if a is not None and len(a) != len(self.valid):
                raise InvalidArgumentError(
                    f"clip {self.id!r}: {name} has {len(a)} frames, valid {len(self.valid)}"
                )

    @property
    def n_frames(self) -> int:
        """Number of frames ``T``."""
        return int(len(self.valid))

    @property
    def openness(self) -> np.ndarray:
        """True mouth openness, shape (T,), NaN on invalid frames (mesh 13-14 over 33-263
        when the mesh is known, else 68-point 62-66 over 36-45)."""
        if self.mesh is not None:
            o = mouth_openness_mesh(self.mesh)
        else:
            o = mouth_openness_68(self.landmarks)
        o = np.asarray(o, dtype=np.float64).copy()
        o[~self.valid] = np.nan
        return o


def track_mesh(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, float]:
    """Track Face Mesh points in every frame of a video.

    Uses :func:`talkinghead.face.tracking.track_video` when available, else
    mediapipe's legacy Face Mesh directly (one face, video mode).

    Returns
    -------
    mesh : ndarray, shape (T, 468, 3), float32
        Pixels (x, y; z scaled by the width); NaN where no face was found.
    valid : ndarray of bool, shape (T,)
    fps : float
    """
    try:
        from ..face.tracking import track_video
    except ImportError:
        track_video = None
    if track_video is not None:
        tr = track_video(path, progress=False)
        return (np.asarray(tr.mesh, dtype=np.float32), np.asarray(tr.valid, bool), float(tr.fps))
    import mediapipe as mp

    from ..video.io import iter_frames, probe_video

    fps = float(probe_video(path).fps)
    meshes, valid = [], []
    with mp.solutions.face_mesh.FaceMesh(
        static_image_mode=False,
        max_num_faces=1,
        refine_landmarks=False,
        min_detection_confidence=0.5,
        min_tracking_confidence=0.5,
    ) as fm:
        for fr in iter_frames(path):
            h, w = fr.image.shape[:2]
            res = fm.process(fr.image)
            if res.multi_face_landmarks:
                pts = res.multi_face_landmarks[0].landmark
                m = np.array([(p.x * w, p.y * h, p.z * w) for p in pts[:468]], np.float32)
                meshes.append(m)
                valid.append(True)
            else:
                meshes.append(np.full((468, 3), np.nan, np.float32))
                valid.append(False)
    if not meshes:
        raise MediaError(f"path={str(path)!r} decoded no frames; expected a video")
    return np.stack(meshes), np.array(valid, bool), fps


def truth_from_video(
    path: str | os.PathLike,
    *,
    audio: str | os.PathLike | None = None,
    sr: int = 16000,
    transcript: str | None = None,
    emotion: str | None = None,
    speaker: str | None = None,
    id: str | None = None,
) -> ClipTruth:
    """Track a video and load its audio into a :class:`ClipTruth`.

    Parameters
    ----------
    path : str or PathLike
        The video.
    audio : str or PathLike, optional
        The audio (default: the video's own track; None in the result when it has none).
    sr : int
        Audio sample rate to load at.
    """
    from ..audio.io import load_audio
    from ..errors import NoAudioStreamError

    mesh, valid, fps = track_mesh(path)
    try:
        y, sr_out = load_audio(audio if audio is not None else path, sr=sr)
    except NoAudioStreamError:
        y, sr_out = None, None
    return ClipTruth(
        id=id or Path(path).stem,
        fps=fps,
        valid=valid,
        mesh=mesh,
        y=y,
        sr=sr_out,
        transcript=transcript,
        emotion=emotion,
        speaker=speaker,
        extra={"video": str(path), "audio": str(audio or path)},
    )


def truth_from_corpus_clip(
    corpus_dir: str | os.PathLike,
    clip,
    recording=None,
    *,
    sr: int = 16000,
    load_audio_: bool = True,
) -> ClipTruth:
    """A prepared corpus clip (``clips.jsonl`` line + ``arrays/<id>.npz``) as a ClipTruth.

    Parameters
    ----------
    corpus_dir : str or PathLike
        The folder written by ``talkinghead prepare``.
    clip : talkinghead.corpora.manifest.Clip
    recording : talkinghead.corpora.manifest.Recording, optional
        Its recording (labels and the audio path); the audio of the clip's frame range
        is loaded from ``recording.audio`` when given and ``load_audio_``.
    """
    from ..audio.io import load_audio

    corpus_dir = Path(corpus_dir)
    if not clip.path:
        raise MediaError(f"clip {clip.id!r} has no arrays (status {clip.status!r})")
    npz = corpus_dir / clip.path
    if not npz.is_file():
        raise MediaError(f"path={str(npz)!r} does not exist; expected the clip's arrays")
    with np.load(npz) as z:
        mesh = np.asarray(z["mesh"], dtype=np.float64) if "mesh" in z else None
        lm = np.asarray(z["landmarks68"], dtype=np.float64) if "landmarks68" in z else None
        valid = np.asarray(z["valid"], dtype=bool)
    y = sr_out = None
    if recording is not None and load_audio_ and recording.audio:
        try:
            y, sr_out = load_audio(
                recording.audio,
                sr=sr,
                offset=clip.start_frame / clip.fps,
                duration=clip.n_frames / clip.fps,
            )
        except MediaError:
            y = sr_out = None
    rec = recording
    return ClipTruth(
        id=clip.id,
        fps=float(clip.fps),
        valid=valid,
        mesh=mesh,
        landmarks=lm,
        y=y,
        sr=sr_out,
        transcript=getattr(rec, "transcript", None),
        emotion=getattr(rec, "emotion", None),
        speaker=getattr(rec, "speaker", None),
        extra={"recording": clip.recording, "npz": str(npz), "flags": list(clip.flags)},
    )
