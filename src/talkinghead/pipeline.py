"""A loaded animator to reuse across calls: :func:`load_model` and :class:`Model`.

:func:`talkinghead.animate` keeps the shipped models loaded between calls itself; a
:class:`Model` makes that explicit and also loads a checkpoint folder of your own
(``config.json`` + ``model.safetensors``, as ``talkinghead train`` and
:meth:`talkinghead.models.default.DefaultModel.save_pretrained` write them)::

    import talkinghead as th

    model = th.load_model("default")           # or "whisper", "phonetic"
    model = th.Model.from_pretrained("runs/my_model")
    for y in chunks_of_speech:                  # float or int16 samples at 16 kHz
        anim = model(y, 16000)                  # an Animation
        anim.blendshapes                        # (T, 52) ARKit weights

Cheap to import: the model is read by :func:`load_model` / :meth:`Model.from_pretrained`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidArgumentError, MediaError

__all__ = ["Model", "load_model"]


@dataclass
class Model:
    """An animator loaded once, called many times.

    Attributes
    ----------
    name : str
        ``"default"``, ``"whisper"``, ``"phonetic"`` or the checkpoint folder's name;
        written to ``Animation.model``.
    net : MouthModel, DefaultModel or None
        The learned read-out (None for the rule-based phonetic animator).
    """

    name: str
    net: object | None = None

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike) -> Model:
        """Load a learned checkpoint folder (``config.json`` + ``model.safetensors``): a
        mouth model (:mod:`talkinghead.models.mouth`) or a default-model read-out."""
        d = Path(directory)
        if not (d / "config.json").is_file() or not (d / "model.safetensors").is_file():
            raise MediaError(
                f"directory={str(directory)!r} must be a checkpoint folder with config.json "
                "and model.safetensors"
            )
        from .models.shipped import load_learned

        return cls(name=d.resolve().name, net=load_learned(d))

    def __call__(
        self,
        y,
        sr: int | None = None,
        *,
        fps: float | None = None,
        n_frames: int | None = None,
        transcript: str | None = None,
    ):
        """Animate speech: ``y`` samples (float, or int16/int32 PCM, scaled) at ``sr`` Hz,
        or a media file path (then ``sr`` is not needed). Returns an :class:`Animation`;
        see :func:`talkinghead.animate` for the other parameters."""
        from .inference import animate

        return animate(y, sr=sr, fps=fps, n_frames=n_frames, transcript=transcript, model=self)


def load_model(name: str = "default", *, closures: str | None = None) -> Model:
    """The shipped animator ``name`` (``"default"``, ``"whisper"``, ``"phonetic"``) or a
    checkpoint folder path, loaded once (:class:`Model`); ``closures="whisper"``: with the
    /p b m/ closures of :func:`talkinghead.animate` (``closures=``) switched on."""
    from .models.shipped import MODELS, shipped_model, with_closures

    if name == "phonetic":
        model = Model(name="phonetic")
    elif name in MODELS:
        model = Model(name=name, net=shipped_model(name))
    elif Path(name).is_dir():
        model = Model.from_pretrained(name)
    else:
        raise InvalidArgumentError(
            f"name={name!r} must be one of {list(MODELS)} or a checkpoint folder"
        )
    if closures is not None:
        model.net = with_closures(model.net, closures)
    return model
