"""One call from speech to face parameters: :func:`animate` -> :class:`Animation`.

``model`` names a shipped animator (:mod:`talkinghead.models.shipped`: ``"default"``, the
learned default model; ``"whisper"``, the same on the Whisper tiny.en encoder;
``"phonetic"``, the rule-based animator) or is a loaded :class:`talkinghead.Model`.
:func:`animate` reads any media file (or takes samples) and returns an :class:`Animation`:
the :class:`~talkinghead.models.shipped.FaceParameters` with their exports, ``save`` and
``load``. Measurements: ``docs/default_model.md``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .audio.io import pcm_to_float
from .errors import InvalidArgumentError, check_positive
from .models.shipped import (
    MODELS,
    FaceParameters,
    LazyPhones,
    animate_samples,
    recognized_phones,
    shipped_model,
    with_closures,
)

__all__ = ["Animation", "animate", "LazyPhones", "MODELS", "pcm_to_float", "recognized_phones"]


@dataclass
class Animation(FaceParameters):
    """Per-frame face parameters for a piece of speech, with their exports.

    The attributes are those of :class:`~talkinghead.models.shipped.FaceParameters`
    (``fps``, ``landmarks`` (T, 68, 2), ``mouth_open`` (T,), ``articulation`` (T, K),
    ``articulation_names``, ``phones``, ``model``, ``duration``, and the optional
    ``rotation`` (T, 3), ``brow`` (T,), ``blink`` (T,)).
    """

    @property
    def blendshape_names(self) -> tuple[str, ...]:
        """Column names of :attr:`blendshapes`: the 52 ARKit blendshapes in Apple's
        ``ARFaceAnchor.BlendShapeLocation`` order (:data:`talkinghead.face.arkit.ARKIT_NAMES`)."""
        from .face.arkit import ARKIT_NAMES

        return ARKIT_NAMES

    @property
    def blendshapes(self) -> np.ndarray:
        """The 52 ARKit blendshape weights, shape (T, 52), float32 in [0, 1].

        Columns in :attr:`blendshape_names` order (``eyeBlinkLeft``, ``eyeLookDownLeft``,
        ..., ``jawOpen``, ..., ``tongueOut``): what the 3D head, the ``arkit-csv`` and
        ``glb`` exports show (mouth from the articulation, brows and blinks from the
        upper-face motion; :func:`talkinghead.models.blendshape_bridge.animation_to_blendshapes`).
        Head rotation is :attr:`rotation`.
        """
        from .models.blendshape_bridge import animation_to_blendshapes

        return animation_to_blendshapes(self).weights

    def export(self, path: str | os.PathLike, format: str | None = None, **options) -> Path:
        """Write the animation in an export format (atomically).

        Parameters
        ----------
        path : path-like
        format : str, optional
            A key of :data:`talkinghead.export.FORMATS` (``arkit-csv``, ``glb``, ``json``,
            ``rhubarb-tsv``, ``visemes``, ``azure-visemes``, ``polly-marks``, ...);
            default: from the extension (``.csv`` ARKit CSV, ``.glb``, ``.json``, ``.npz``,
            ``.tsv``/``.xml`` Rhubarb, ``.marks`` Polly).
        **options
            ``retarget="rpm"`` (or ``vrm``, ``cc4``, ``metahuman``, a mapping file),
            ``audio=`` the speech file (glb sidecar, Rhubarb ``soundFile``), and the
            writers' options (:func:`talkinghead.export.export`).

        Returns
        -------
        Path
        """
        from .export import export_animation

        return export_animation(self, path, format, **options)

    def save(self, path: str | os.PathLike) -> Path:
        """Write an ``.npz`` (atomically, members stored uncompressed) that :meth:`load` and
        ``talkinghead render`` read."""
        from ._util.atomic import save_npz_atomic

        meta = {
            "fps": self.fps,
            "model": self.model,
            "duration": self.duration,
            "articulation_names": list(self.articulation_names),
            # phones the default model never computed stay uncomputed (null): saving the
            # parameters must not run phone recognition (``export --audio`` recognises them)
            "phones": None if _uncomputed(self.phones) else [list(p) for p in self.phones],
        }
        extra = {
            k: np.asarray(getattr(self, k), np.float32)
            for k in ("rotation", "brow", "blink")
            if getattr(self, k) is not None
        }
        return save_npz_atomic(
            path,
            compress=False,  # 0.9 MB per minute instead of 0.45 MB, written in ~1 ms, not ~25
            **extra,
            landmarks=self.landmarks.astype(np.float32),
            mouth_open=self.mouth_open.astype(np.float32),
            articulation=self.articulation.astype(np.float32),
            fps=np.float64(self.fps),
            meta=np.array(json.dumps(meta)),
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> Animation:
        """Read an ``.npz`` written by :meth:`save`.

        Phones that were not computed before saving come back as a :class:`LazyPhones`
        that raises :class:`~talkinghead.errors.InvalidArgumentError` when read; assign
        :func:`recognized_phones` of the speech to ``phones`` to have them.

        A file saved before the head, brows and blinks existed (no ``rotation``, ``brow``
        or ``blink``) is upgraded here, the one place that knows the old format: the missing
        motion is :func:`~talkinghead.models.expression.upper_face_motion` without the
        speech (seed 0: drift and blinks, no nods), drawn on the landmarks as
        :func:`talkinghead.animate` draws it.
        """
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            phones = meta.get("phones")
            if phones is None:
                phones = LazyPhones(_not_saved(path))
            fps = float(z["fps"])
            landmarks = z["landmarks"]
            upper = {k: z[k] for k in ("rotation", "brow", "blink") if k in z.files}
            arrays = {k: z[k] for k in ("mouth_open", "articulation")}
        if len(upper) < 3:
            landmarks, upper = _upgrade_upper_face(landmarks, upper, fps)
        return cls(
            fps=fps,
            landmarks=landmarks,
            **arrays,
            articulation_names=meta["articulation_names"],
            phones=phones if isinstance(phones, LazyPhones) else [tuple(p) for p in phones],
            model=meta["model"],
            duration=meta["duration"],
            **upper,
        )


def _upgrade_upper_face(landmarks: np.ndarray, upper: dict, fps: float):
    """Landmarks (T, 68, 2) and ``{rotation, brow, blink}`` of an old file (see ``load``)."""
    from .models.expression import apply_upper_face_68, upper_face_motion

    up = upper_face_motion(y=None, sr=None, fps=fps, n_frames=len(landmarks), seed=0)
    new = {k: getattr(up, k) for k in ("rotation", "brow", "blink") if k not in upper}
    drawn = apply_upper_face_68(landmarks, brow=new.get("brow"), blink=new.get("blink"))
    return drawn, {**upper, **new}


def _uncomputed(phones) -> bool:
    return isinstance(phones, LazyPhones) and not phones.computed


def _not_saved(path):
    def compute():
        raise InvalidArgumentError(
            f"params='{path}' must hold phones for this output: they are computed only when "
            "an output needs them, and these parameters were saved without; give the speech "
            "(`talkinghead export ... --audio SPEECH`) so that they are recognised"
        )

    return compute


def _video_info(path):
    """The VideoInfo of ``path`` if it holds a video stream, else None."""
    from .audio.io import is_sound_only_file
    from .errors import MediaError

    if is_sound_only_file(path):  # a wav/flac holds no video: no PyAV import
        return None
    from .video.io import probe_video

    try:
        return probe_video(path)
    except MediaError:
        return None


def animate(
    audio,
    *,
    sr: int | None = None,
    fps: float | None = None,
    n_frames: int | None = None,
    transcript: str | None = None,
    model="default",
    closures: str | None = None,
) -> Animation:
    """Turn speech into per-frame face parameters.

    Parameters
    ----------
    audio : str, path or ndarray, shape (n,)
        A media file (any audio or video format) or mono samples: floats in [-1, 1], or
        integer PCM (int16 / int32 are scaled by 1 / 2**15 and 1 / 2**31, uint8 is
        centred on 128).
    sr : int, optional
        Sample rate of ``audio`` when it is an array (required then).
    fps : float, optional
        Output frame rate (default: the video's own for a video file, else 25).
    n_frames : int, optional
        Number of output frames (default: the video's frame count for a video
        file at its own rate, else the audio duration x fps, rounded).
    transcript : str, optional
        What is said; when given, phones come from forced alignment instead of
        phone recognition (more accurate), and the learned models close the lips on
        every aligned /p b m/.
    model : {"default", "whisper", "phonetic"} or Model
        The animator (or a :class:`talkinghead.Model` from :func:`talkinghead.load_model`
        or ``Model.from_pretrained``, reused across calls): the learned default model
        (:mod:`talkinghead.models.mouth`: six mouth degrees of freedom from the distilled
        convolutional front end of :mod:`talkinghead.models.student`; fast), a ridge
        read-out of the mouth opening on the Whisper tiny.en encoder itself ("whisper":
        held-out opening r 0.62 against 0.60, but no width or rounding; ~5x slower), or the
        rule-based phonetic animator (docs/default_model.md). ``phones`` come from phone
        recognition, or from forced alignment of ``transcript`` when given; for the learned
        models they are computed only when first read (:class:`LazyPhones`).
    closures : {None, "whisper"}
        With ``"whisper"``, the default model also closes the lips where its /p b m/
        classifier on Whisper tiny.en encoder frames hears a bilabial (needs
        ``talkinghead[whisper]``; a 60 s file took 2.2 s instead of 0.7 s from the command
        line). Held out it closes the lips on 98 % of the /p b m/ that the real mouth closes,
        against 70 % without, at a median mouth-opening r of 0.58 against 0.60
        (docs/default_model.md, session 13).
        With ``model="whisper"`` the same classifier closes that read-out's lips (the
        encoder runs once for both). Refused for the phonetic model.

    Returns
    -------
    Animation
    """
    net = None
    if not isinstance(model, str):  # a loaded talkinghead.Model
        net, model = getattr(model, "net", None), getattr(model, "name", "custom")
        model = model if net is not None else "phonetic"
    elif model not in MODELS:  # before reading the audio
        raise InvalidArgumentError(f"model={model!r} must be one of {list(MODELS)}")
    if closures is not None:  # before reading the audio
        learned = net if net is not None or model == "phonetic" else shipped_model(model)
        net = with_closures(learned, closures)
    if isinstance(audio, str | os.PathLike):
        from .audio.io import load_audio

        y, sr = load_audio(audio, sr=16000)
        video = _video_info(audio)
        if video is not None and (fps is None or abs(fps - video.fps) < 1e-6):
            fps = video.fps
            n_frames = video.n_frames if n_frames is None else n_frames
    else:
        if sr is None:
            raise InvalidArgumentError("sr=None must be given when audio is an array")
        sr = int(check_positive("sr", sr))
        y = pcm_to_float(audio)
        if y.ndim != 1:
            raise InvalidArgumentError(f"audio.shape={y.shape} must be 1-D (mono samples)")
    return Animation(
        **vars(
            animate_samples(y, sr=sr, fps=25.0 if fps is None else fps, n_frames=n_frames,
                            transcript=transcript, model=model, net=net)
        )
    )  # fmt: skip
