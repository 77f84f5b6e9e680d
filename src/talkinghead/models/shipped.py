"""The shipped animators by name, run on speech samples: speech -> :class:`FaceParameters`.

``model="default"`` is the learned default model (:mod:`talkinghead.models.mouth` where it
ships, else the ridge read-out of :mod:`talkinghead.models.default`, both on the distilled
student front end of :mod:`talkinghead.models.student`); ``"whisper"`` is the same on the
Whisper tiny.en encoder; ``"phonetic"`` is the rule-based animator
(:mod:`talkinghead.models.phonetic`: phones -> visemes -> Cohen-Massaro coarticulation).
Every one gets the procedural head, brows and blinks of
:func:`talkinghead.models.expression.upper_face_motion`.

:func:`talkinghead.animate` (:mod:`talkinghead.inference`) reads media files and returns an
:class:`~talkinghead.inference.Animation` (these parameters plus export, save and load);
the evaluator and the audio-video offset measure call :func:`animate_samples` directly.
Measurements: ``docs/default_model.md``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidArgumentError, check_positive

__all__ = [
    "CLOSURES",
    "MODELS",
    "FaceParameters",
    "LazyPhones",
    "recognized_phones",
    "animate_samples",
    "load_learned",
    "shipped_dir",
    "shipped_model",
    "with_closures",
]

#: Names of the shipped animators.
MODELS = ("default", "whisper", "phonetic")

#: Where :func:`talkinghead.animate` (``closures=``) may take the lips' /p b m/ closures from
#: besides the mouth network itself: ``"whisper"``, the shipped default's classifier on
#: Whisper tiny.en encoder frames (needs ``talkinghead[whisper]``; docs/default_model.md).
CLOSURES = ("whisper",)


@dataclass
class FaceParameters:
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
        Phone segments in seconds (for the learned models a
        :class:`LazyPhones`: phone recognition or alignment runs
        only when they are first read).
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


# --------------------------------------------------------------------------- deferred phones


def _recognize(y, sr):
    from ..audio.phones import recognize_phones  # only when the phones are read

    return recognize_phones(y=y, sr=sr)


def recognized_phones(y: np.ndarray, sr: int) -> LazyPhones:
    """Phones of the speech ``y`` by phone recognition
    (:func:`~talkinghead.audio.phones.recognize_phones`), computed when first read."""
    return LazyPhones(lambda: [(p.label, float(p.start), float(p.end)) for p in _recognize(y, sr)])


class LazyPhones(list):
    """A list of ``(label, start, end)`` phones computed on first use.

    Phone recognition costs ~2 s per minute of speech; the default model does not need
    phones, only some exports do (visemes, Rhubarb cues), so :func:`talkinghead.animate`
    defers it.
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


def load_learned(directory: str | os.PathLike):
    """A learned checkpoint folder: a :class:`~talkinghead.models.mouth.MouthModel` or a
    :class:`~talkinghead.models.default.DefaultModel` (by its ``config.json`` format)."""
    from .._util.checkpoint import checkpoint_format

    if checkpoint_format(directory) == "talkinghead.MouthModel":
        from .mouth import MouthModel

        return MouthModel.from_pretrained(directory)
    from .default import DefaultModel

    return DefaultModel.from_pretrained(directory)


def shipped_dir(model: str):
    """The checkpoint folder behind ``model`` ("default" or "whisper"): the mouth model
    (:mod:`talkinghead.models.mouth`) where it ships, else the ridge read-out."""
    from .default import FAST_DIR, WHISPER_DIR
    from .mouth import MOUTH_DIR, MOUTH_WHISPER_DIR

    new, old = (MOUTH_DIR, FAST_DIR) if model == "default" else (MOUTH_WHISPER_DIR, WHISPER_DIR)
    return new if (new / "config.json").is_file() else old


_LOADED: dict = {}


def with_closures(net, closures: str):
    """``net`` (None: the phonetic animator, refused) with the /p b m/ closures of
    ``closures`` (one of :data:`CLOSURES`) switched on: a mouth model's own classifier
    (:meth:`talkinghead.models.mouth.MouthModel.with_closures`), or for a ridge read-out
    (``model="whisper"``) the shipped default's classifier on Whisper frames
    (:meth:`talkinghead.models.default.DefaultModel.with_closures`); a clear error where
    there is no such classifier (a mouth checkpoint without one)."""
    if closures not in CLOSURES:
        raise InvalidArgumentError(f"closures={closures!r} must be None or one of {list(CLOSURES)}")
    if net is None:  # the phonetic animator
        raise InvalidArgumentError(
            f"closures={closures!r} must come with a learned model (model='default' or "
            "'whisper'), not the phonetic animator"
        )
    from .default import DefaultModel
    from .mouth import MouthModel

    def usable(m) -> bool:
        return (
            isinstance(m, MouthModel)
            and m.closure is not None
            and m.config.closure_frontend == closures
        )

    source = shipped_model("default") if isinstance(net, DefaultModel) else net
    if not usable(source):
        raise InvalidArgumentError(
            f"closures={closures!r} needs a mouth model with a /p b m/ classifier on "
            f"{closures} frames (the shipped default model has one; the phonetic model and "
            "this checkpoint have none)"
        )
    from ..audio.whisper import require_encoder

    require_encoder()  # before any work
    if isinstance(net, DefaultModel):
        return net.with_closures(source.with_closures())
    return net.with_closures()


def shipped_model(model: str):
    """The shipped learned model behind ``model`` ("default": student front end; "whisper"),
    loaded once per process."""
    if model not in _LOADED:
        _LOADED[model] = load_learned(shipped_dir(model))
    return _LOADED[model]


def animate_samples(
    y: np.ndarray,
    *,
    sr: int,
    fps: float,
    n_frames: int | None = None,
    transcript: str | None = None,
    model: str = "default",
    net=None,
) -> FaceParameters:
    """Turn speech samples into per-frame face parameters.

    Parameters
    ----------
    y : ndarray, shape (n,), float
        Mono speech in [-1, 1].
    sr : int
    fps : float
    n_frames : int, optional
        Default: the audio duration x fps, rounded.
    transcript : str, optional
        What is said; phones then come from forced alignment (falling back to recognition
        with a warning), and the learned models close the lips on every aligned /p b m/.
    model : {"default", "whisper", "phonetic"} or str
        The shipped animator; with ``net``, the name written to ``FaceParameters.model``.
    net : MouthModel or DefaultModel, optional
        A loaded learned read-out to run instead of the shipped one.

    Returns
    -------
    FaceParameters
    """
    from ..face.articulation import ARTICULATION_NAMES
    from ..face.normalize import neutral_face_68
    from ..face.visemes import PARAMS
    from .expression import apply_upper_face_68, upper_face_motion

    if net is None and model not in MODELS:
        raise InvalidArgumentError(f"model={model!r} must be one of {list(MODELS)}")
    fps = check_positive("fps", fps)
    if net is not None or model in ("default", "whisper"):
        if n_frames is None:
            n_frames = int(round(len(y) / sr * fps))
        aligned = None
        if transcript:  # forced alignment: exact phones, and the lips close on /p b m/
            import warnings

            from ..audio.phones import AlignmentError, Phone, align_phones

            try:
                al = align_phones(y=y, sr=sr, transcript=transcript)
                aligned = [(p.label, float(p.start), float(p.end)) for p in al]
            except AlignmentError as e:
                warnings.warn(
                    f"{e}; the transcript is not used (phones from recognition)",
                    RuntimeWarning,
                    stacklevel=3,
                )
        dres = (net or shipped_model(model))(
            y=y, sr=sr, fps=fps, n_frames=n_frames, neutral=neutral_face_68(),
            phones=None if aligned is None else [Phone(*p) for p in aligned],
        )  # fmt: skip
        up = upper_face_motion(y=y, sr=sr, fps=fps, n_frames=n_frames)
        return FaceParameters(
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
    from .phonetic import PhoneticAnimator

    res = PhoneticAnimator(neutral=neutral_face_68())(
        y=y, sr=sr, fps=fps, n_frames=n_frames, transcript=transcript
    )
    lm = np.asarray(res.landmarks, dtype=np.float32)
    up = upper_face_motion(y=y, sr=sr, fps=fps, n_frames=len(lm))
    return FaceParameters(
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
