"""Speech -> a file: the end-to-end renderings behind ``talkinghead animate``.

Each function animates the speech with :func:`talkinghead.inference.animate` (unless it is
handed the face parameters as ``anim``), reads the sound track, and gives the parameters to
a renderer of :mod:`talkinghead.render` (which draws parameters only) or to
:mod:`talkinghead.export`:

- :func:`render_face_video`: the 68-point sketch (:mod:`talkinghead.render.sketch`) or the
  shaded 3D head (:mod:`talkinghead.render.head3d`);
- :func:`render_photo_video`: one photo (:mod:`talkinghead.render.photo`);
- :func:`render_person`: a person learned by :func:`talkinghead.personalize.personalize`;
- :func:`export_speech`: an export format (:func:`talkinghead.export.export_animation`).

Every file is written atomically; the videos are MP4 with the speech muxed in (44.1 kHz).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "render_face_video",
    "render_photo_video",
    "render_person",
    "export_speech",
]

#: Sample rate of the sound track muxed into the videos.
VIDEO_AUDIO_SR = 44100


def _animation(audio, anim, *, fps=None, transcript=None, model="default"):
    if anim is not None:
        return anim
    from .inference import animate

    return animate(audio, fps=fps, transcript=transcript, model=model)


def render_face_video(
    path: str | os.PathLike,
    audio: str | os.PathLike,
    *,
    face: str = "sketch",
    anim=None,
    transcript: str | None = None,
    fps: float | None = None,
    model="default",
    size: int | None = None,
    progress: bool | None = None,
) -> Path:
    """Speech -> an MP4 of the 68-point sketch or of the shaded 3D head, with the speech.

    Parameters
    ----------
    path : str or path
        Output ``.mp4``.
    audio : str or path
        Speech (audio file, or a video with an audio track).
    face : {"sketch", "3d"}
        The sketch (:func:`talkinghead.render.sketch.render_landmarks_video`) or the 3D head
        (52 ARKit blendshapes + head rotation of
        :func:`talkinghead.models.blendshape_bridge.animation_to_blendshapes`,
        :func:`talkinghead.render.head3d.render_head_video`).
    anim : Animation, optional
        Draw these face parameters instead of animating ``audio``.
    transcript, fps, model
        See :func:`talkinghead.inference.animate`.
    size : int, optional
        Side of the square video, pixels (default 256 for the sketch, 512 for the head).
    progress : bool, optional
        Progress bar of the sketch (None: on a terminal only).

    Returns
    -------
    Path
    """
    from .audio.io import load_audio
    from .errors import InvalidArgumentError

    if face not in ("sketch", "3d"):
        raise InvalidArgumentError(f"face={face!r} must be 'sketch' or '3d'")
    anim = _animation(audio, anim, fps=fps, transcript=transcript, model=model)
    y, sr = load_audio(audio, sr=VIDEO_AUDIO_SR)
    if face == "3d":
        from .models.blendshape_bridge import animation_to_blendshapes
        from .render.head3d import render_head_video

        shapes = animation_to_blendshapes(anim, y=y, sr=sr)
        return Path(render_head_video(path, shapes, audio=y, sr=sr, size=size or 512))
    from .render.sketch import render_landmarks_video

    return Path(
        render_landmarks_video(path, anim.landmarks, fps=anim.fps, audio=y, sr=sr,
                               size=size or 256, progress=progress)
    )  # fmt: skip


def render_photo_video(
    path: str | os.PathLike,
    photo,
    audio_path: str | os.PathLike,
    *,
    transcript: str | None = None,
    size: int | None = None,
    fps: float | None = None,
    face_index: int | None = None,
    blink_seed: int | None = 0,
    head_motion: bool = True,
    anim=None,
    refiner=None,
    model="default",
    progress: bool | None = None,
    mouth: str = "procedural",
    mouth_model=None,
) -> Path:
    """Animate a photo with speech and write an MP4 with the audio (atomically).

    Parameters
    ----------
    path : str or path
        Output ``.mp4``.
    photo : str, path, ndarray or PhotoFace
        See :func:`talkinghead.render.photo.load_photo` (a ``PhotoFace`` skips detection).
    audio_path : str or path
        Speech (audio file, or a video with an audio track).
    transcript : str, optional
        What is said (forced alignment instead of phone recognition).
    size : int or None
        Downscale the video to this longer side (default None: the photo's resolution, at
        most :data:`~talkinghead.render.photo.MAX_OUTPUT_SIDE`;
        :func:`~talkinghead.render.photo.check_output_size`).
    fps : float, optional
        Frame rate (default: the audio file's video rate, else 25).
    face_index, blink_seed, head_motion, refiner, mouth, mouth_model
        See :func:`talkinghead.render.photo.animate_photo`.
    anim : Animation, optional
        Use these face parameters instead of animating ``audio_path``.
    model
        The animator (:func:`talkinghead.inference.animate`).
    progress : bool, optional
        Progress bar (None: on a terminal only).

    Returns
    -------
    Path
    """
    from ._util.progress import progress as _progress
    from .audio.io import load_audio
    from .render.photo import PhotoFace, animate_photo, find_photo_face
    from .video.io import write_video

    face = (
        photo
        if isinstance(photo, PhotoFace)
        else find_photo_face(photo, size=size, face_index=face_index)
    )
    anim = _animation(audio_path, anim, fps=fps, transcript=transcript, model=model)
    y, sr = load_audio(audio_path, sr=VIDEO_AUDIO_SR)
    frames = animate_photo(face, anim, blink_seed=blink_seed, head_motion=head_motion,
                           refiner=refiner, mouth=mouth, mouth_model=mouth_model)  # fmt: skip
    frames = _progress(frames, total=anim.n_frames, desc="render", unit="frame", enabled=progress)
    return write_video(path, frames, fps=anim.fps, audio=y, sr=sr)


def render_person(
    audio: str | os.PathLike,
    person_dir: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    transcript: str | None = None,
    fps: float | None = None,
    seed: int = 0,
    head_pose: bool = True,
    blinks: bool = True,
    refine: bool = True,
    mouth: str = "procedural",
    mouth_model=None,
    anim=None,
    model="default",
    progress: bool | None = None,
) -> Path:
    """Speech + a PERSON_DIR -> talking MP4 of that person (with the audio).

    The animator's landmarks drive the warp of the person's reference frame; the head moves
    with the pose the person's model generates from the speech (energy and F0);
    :meth:`talkinghead.personalize.Person.frames` draws and refines the frames.

    Parameters
    ----------
    audio : str or path
        Speech (audio file, or a video with an audio track).
    person_dir : str or path
        From :func:`talkinghead.personalize.personalize`.
    out_path : str or path
        Output ``.mp4``.
    transcript : str, optional
        What is said (forced alignment).
    fps : float, optional
        Frame rate (default: the person's video's).
    seed : int
        Head-pose and blink randomness.
    head_pose, blinks, refine : bool
        Switch the personalised head motion, blinks, refiner off.
    mouth, mouth_model
        :meth:`~talkinghead.personalize.Person.frames`: "learned" uses the person's
        fine-tuned learned mouth (``PERSON_DIR/mouth_generator``) unless ``mouth_model``
        names another.
    anim : Animation, optional
        Use these landmarks instead of animating ``audio``.
    model
        The animator (:func:`talkinghead.inference.animate`).
    progress : bool, optional
        Progress bar (None: on a terminal only).

    Returns
    -------
    Path
    """
    from ._util.progress import progress as _progress
    from .audio.io import load_audio
    from .models.expression import driving_landmarks
    from .models.head_pose import audio_pose_features
    from .personalize import load_person
    from .render.photo import blink_curve
    from .video.io import write_video

    person = load_person(person_dir)
    fps = float(fps or person.fps)
    anim = _animation(audio, anim, fps=fps, transcript=transcript, model=model)
    T = anim.n_frames
    head = None
    if head_pose:
        y16, sr16 = load_audio(audio, sr=16000)
        feats = audio_pose_features(y=y16, sr=sr16, fps=anim.fps, n_frames=T)
        head = person.pose_to_head(person.pose_model.generate(feats, seed=seed))
    lms, own_blinks = driving_landmarks(anim, blinks=blinks)
    bl = blink_curve(T, fps=anim.fps, seed=seed) if own_blinks else None
    y, sr = load_audio(audio, sr=VIDEO_AUDIO_SR)
    frames = person.frames(lms, head=head, blinks=bl, refine=refine, mouth=mouth,
                           mouth_model=mouth_model)  # fmt: skip
    frames = _progress(frames, total=T, desc="render", unit="frame", enabled=progress)
    return write_video(out_path, frames, fps=anim.fps, audio=y, sr=sr)


def export_speech(
    path: str | os.PathLike,
    speech: str | os.PathLike,
    format: str | None = None,
    *,
    anim=None,
    transcript: str | None = None,
    fps: float | None = None,
    model="default",
    **options,
) -> Path:
    """Speech -> an export format (ARKit CSV, glb, JSON, Rhubarb, visemes, ...).

    Parameters
    ----------
    path : str or path
    speech : str or path
        Speech (audio file, or a video with an audio track); read at 16 kHz for the
        writers that use the signal (the upper-face motion of the blendshapes).
    format : str, optional
        A key of :data:`talkinghead.export.FORMATS` (default: from the extension).
    anim : Animation, optional
        Export these face parameters instead of animating ``speech``.
    transcript, fps, model
        See :func:`talkinghead.inference.animate`.
    **options
        The writers' options (:func:`talkinghead.export.export_animation`; e.g. ``audio=``
        the glb's sound sidecar).

    Returns
    -------
    Path
    """
    from .audio.io import load_audio
    from .export import export_animation

    anim = _animation(speech, anim, fps=fps, transcript=transcript, model=model)
    y, sr = load_audio(speech, sr=16000)
    return Path(export_animation(anim, path, format, y=y, sr=sr, **options))
