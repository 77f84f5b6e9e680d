"""One call from speech to face parameters: :func:`animate` -> :class:`Animation`.

``model="default"`` is the learned default model (:mod:`talkinghead.models.default`: a
ridge read-out on the distilled student front end, :mod:`talkinghead.models.student`);
``"whisper"`` is the same read-out on the Whisper tiny.en encoder; ``"phonetic"`` is the
rule-based animator (:mod:`talkinghead.models.phonetic`: phones -> visemes ->
Cohen-Massaro coarticulation). A loaded :class:`talkinghead.Model` is accepted too.
Measurements: ``docs/default_model.md``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InvalidArgumentError, check_positive

__all__ = ["Animation", "animate", "LazyPhones", "MODELS", "pcm_to_float", "recognized_phones"]

MODELS = ("default", "whisper", "phonetic")


@dataclass
class Animation:
    """Per-frame face parameters for a piece of speech.

    Attributes
    ----------
    fps : float
        Frame rate of every per-frame array.
    landmarks : ndarray, shape (T, 68, 2), float32
        68-point iBUG face in eye-pinned units (eye centres one unit apart, y down).
    mouth_open : ndarray, shape (T,), float32
        Inner-lip gap (points 62-66) over the outer eye-corner distance (36-45).
    articulation : ndarray, shape (T, K), float32
        Articulatory parameters (names in ``articulation_names``).
    articulation_names : list of str
    phones : list of (label, start, end)
        Phone segments in seconds (for the default model a :class:`LazyPhones`: phone
        recognition or alignment runs only when they are first read).
    model : str
    duration : float
        Length of the audio in seconds.
    rotation : ndarray, shape (T, 3), float32, optional
        Head rotation vectors in radians (:mod:`talkinghead.models.expression`).
    brow : ndarray, shape (T,), float32, optional
        Brow raise in [0, 1] (already drawn on ``landmarks``).
    blink : ndarray, shape (T,), float32, optional
        Eyelid closure in [0, 1] (already drawn on ``landmarks``).
    """

    fps: float
    landmarks: np.ndarray
    mouth_open: np.ndarray
    articulation: np.ndarray
    articulation_names: list[str]
    phones: list[tuple[str, float, float]] = field(default_factory=list)
    model: str = "phonetic"
    duration: float = 0.0
    rotation: np.ndarray | None = None
    brow: np.ndarray | None = None
    blink: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        return int(self.landmarks.shape[0])

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
        """
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            phones = meta.get("phones")
            if phones is None:
                phones = LazyPhones(_not_saved(path))
            return cls(
                fps=float(z["fps"]),
                landmarks=z["landmarks"],
                mouth_open=z["mouth_open"],
                articulation=z["articulation"],
                articulation_names=meta["articulation_names"],
                phones=phones if isinstance(phones, LazyPhones) else [tuple(p) for p in phones],
                model=meta["model"],
                duration=meta["duration"],
                **{k: z[k] for k in ("rotation", "brow", "blink") if k in z.files},
            )


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


_LOADED: dict = {}


def _as_phones(triples):
    from .audio.phones import Phone

    return [Phone(label, start, end) for label, start, end in triples]


def load_learned(directory):
    """A learned checkpoint folder: a :class:`~talkinghead.models.mouth.MouthModel` or a
    :class:`~talkinghead.models.default.DefaultModel` (by its ``config.json`` format)."""
    from ._util.checkpoint import checkpoint_format

    if checkpoint_format(directory) == "talkinghead.MouthModel":
        from .models.mouth import MouthModel

        return MouthModel.from_pretrained(directory)
    from .models.default import DefaultModel

    return DefaultModel.from_pretrained(directory)


def shipped_dir(model: str):
    """The checkpoint folder behind ``model`` ("default" or "whisper"): the mouth model
    (:mod:`talkinghead.models.mouth`) where it ships, else the ridge read-out."""
    from .models.default import FAST_DIR, WHISPER_DIR
    from .models.mouth import MOUTH_DIR, MOUTH_WHISPER_DIR

    new, old = (MOUTH_DIR, FAST_DIR) if model == "default" else (MOUTH_WHISPER_DIR, WHISPER_DIR)
    return new if (new / "config.json").is_file() else old


def _learned(model: str):
    """The shipped learned model behind ``model`` ("default": student front end; "whisper")."""
    if model not in _LOADED:
        _LOADED[model] = load_learned(shipped_dir(model))
    return _LOADED[model]


def _phones(y, sr, transcript):
    """Phones from forced alignment of ``transcript`` (falling back to recognition)."""
    import warnings

    from .audio.phones import AlignmentError, align_phones, recognize_phones

    if transcript:
        try:
            return align_phones(y=y, sr=sr, transcript=transcript)
        except AlignmentError as e:
            warnings.warn(f"{e}; using phone recognition instead", RuntimeWarning, stacklevel=3)
    return recognize_phones(y=y, sr=sr)


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


def recognized_phones(y: np.ndarray, sr: int) -> LazyPhones:
    """Phones of the speech ``y`` by phone recognition, computed when first read."""
    return LazyPhones(
        lambda: [(p.label, float(p.start), float(p.end)) for p in _phones(y, sr, None)]
    )


class LazyPhones(list):
    """A list of ``(label, start, end)`` phones computed on first use.

    Phone recognition costs ~2 s per minute of speech; the default model does not need
    phones, only some exports do (visemes, Rhubarb cues), so :func:`animate` defers it.
    """

    def __init__(self, compute) -> None:
        super().__init__()
        self._compute = compute

    @property
    def computed(self) -> bool:
        """True once the phones have been computed (reading them computes them)."""
        return self._compute is None

    def _fill(self) -> None:
        if self._compute is not None:
            items = self._compute()  # an error leaves the phones uncomputed (raised again)
            self._compute = None
            super().extend(items)

    def __len__(self):
        self._fill()
        return super().__len__()

    def __iter__(self):
        self._fill()
        return super().__iter__()

    def __getitem__(self, i):
        self._fill()
        return super().__getitem__(i)

    def __bool__(self):
        return len(self) > 0

    def __eq__(self, other):
        self._fill()
        return list(self) == list(other)

    __hash__ = None

    def __repr__(self):
        return "LazyPhones(<not computed yet>)" if self._compute else super().__repr__()


def pcm_to_float(audio) -> np.ndarray:
    """Samples as float32: floats unchanged, int16 / int32 scaled to [-1, 1) by 1 / 2**15
    and 1 / 2**31, uint8 centred on 128 and scaled by 1 / 128 (WAV's 8-bit PCM)."""
    a = np.asarray(audio)
    if a.dtype == np.uint8:
        return (a.astype(np.float32) - 128.0) / 128.0
    if np.issubdtype(a.dtype, np.signedinteger):
        bits = {1: 7, 2: 15, 4: 31, 8: 63}[a.dtype.itemsize]
        return (a.astype(np.float64) / float(2**bits)).astype(np.float32)
    if not (np.issubdtype(a.dtype, np.floating) or a.dtype == bool):
        raise InvalidArgumentError(f"audio.dtype={a.dtype} must be a float or integer PCM type")
    return a.astype(np.float32)


def animate(
    audio,
    *,
    sr: int | None = None,
    fps: float | None = None,
    n_frames: int | None = None,
    transcript: str | None = None,
    model="default",
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
        (:mod:`talkinghead.models.default` on the distilled convolutional front end of
        :mod:`talkinghead.models.student`: fast),
        the same read-out on the Whisper tiny.en encoder itself ("whisper": the most
        accurate measured, ~5x slower), or the rule-based phonetic animator
        (docs/default_model.md). ``phones`` come from phone recognition, or from forced
        alignment of ``transcript`` when given; for the learned models they are computed
        only when first read (:class:`LazyPhones`).

    Returns
    -------
    Animation
    """
    net = None
    if not isinstance(model, str):  # a loaded talkinghead.Model
        net, model = getattr(model, "net", None), getattr(model, "name", "custom")
        model = model if net is not None else "phonetic"
    elif model not in MODELS:
        raise InvalidArgumentError(f"model={model!r} must be one of {list(MODELS)}")
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
    from .face.articulation import ARTICULATION_NAMES
    from .face.visemes import PARAMS

    fps = check_positive("fps", 25.0 if fps is None else fps)
    from .face.normalize import neutral_face_68
    from .models.expression import apply_upper_face_68, upper_face_motion

    if net is not None or model in ("default", "whisper"):
        if n_frames is None:
            n_frames = int(round(len(y) / sr * fps))
        aligned = None
        if transcript:  # forced alignment: exact phones, and the lips close on /p b m/
            import warnings

            from .audio.phones import AlignmentError, align_phones

            try:
                al = align_phones(y=y, sr=sr, transcript=transcript)
                aligned = [(p.label, float(p.start), float(p.end)) for p in al]
            except AlignmentError as e:
                warnings.warn(
                    f"{e}; the transcript is not used (phones from recognition)",
                    RuntimeWarning,
                    stacklevel=2,
                )
        dres = (net or _learned(model))(
            y=y, sr=sr, fps=fps, n_frames=n_frames, neutral=neutral_face_68(),
            phones=None if aligned is None else _as_phones(aligned),
        )  # fmt: skip
        up = upper_face_motion(y=y, sr=sr, fps=fps, n_frames=n_frames)
        return Animation(
            fps=fps,
            landmarks=apply_upper_face_68(dres.landmarks, brow=up.brow, blink=up.blink),
            rotation=up.rotation,
            brow=up.brow,
            blink=up.blink,
            mouth_open=dres.mouth_open,
            articulation=dres.articulation,
            articulation_names=list(
                ARTICULATION_NAMES
                if dres.articulation.shape[1] == len(ARTICULATION_NAMES)
                else PARAMS
            ),
            phones=aligned if aligned is not None else recognized_phones(y, sr),
            model=model,
            duration=len(y) / sr,
        )
    from .models.phonetic import PhoneticAnimator

    res = PhoneticAnimator(neutral=neutral_face_68())(
        y=y, sr=sr, fps=fps, n_frames=n_frames, transcript=transcript
    )
    lm = np.asarray(res.landmarks, dtype=np.float32)
    up = upper_face_motion(y=y, sr=sr, fps=fps, n_frames=len(lm))
    return Animation(
        fps=fps,
        landmarks=apply_upper_face_68(lm, brow=up.brow, blink=up.blink),
        rotation=up.rotation,
        brow=up.brow,
        blink=up.blink,
        mouth_open=np.asarray(res.mouth_open, dtype=np.float32),
        articulation=np.asarray(res.articulation, dtype=np.float32),
        articulation_names=list(PARAMS),
        phones=[(p.label, float(p.start), float(p.end)) for p in res.phones],
        model=model,
        duration=len(y) / sr,
    )
