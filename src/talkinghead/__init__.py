"""talkinghead: speech in, a talking face out.

The data flow is ``audio -> features -> model -> face parameters -> render/export``:

- :mod:`talkinghead.audio` reads audio, computes the papers' feature sets and phones;
- :mod:`talkinghead.video` reads and writes video files;
- :mod:`talkinghead.face` tracks faces, defines the 68-point scheme and normalisation;
- :mod:`talkinghead.models` holds one file per animator/architecture;
- :mod:`talkinghead.render` draws face parameters to frames and video,
  :mod:`talkinghead.export` writes them in animators' formats;
- :mod:`talkinghead.inference` turns speech into face parameters (:func:`animate`), and
  :mod:`talkinghead.pipelines` speech into a file (sketch, 3D head, photo, person, export).

The layers and what each module holds: the README's "Layout" section.

Importing this package is cheap: numpy-free at import, with heavy modules
(torch, cv2, mediapipe, librosa) loaded only when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .errors import TalkingHeadError

__version__ = "0.1.0"

_LAZY = {
    "animate": ("talkinghead.inference", "animate"),
    "Animation": ("talkinghead.inference", "Animation"),
    "load_audio": ("talkinghead.audio.io", "load_audio"),
    "read_video": ("talkinghead.video.io", "read_video"),
    "write_video": ("talkinghead.video.io", "write_video"),
    "track_video": ("talkinghead.face.tracking", "track_video"),
    "load_model": ("talkinghead.pipeline", "load_model"),
    "Model": ("talkinghead.pipeline", "Model"),
}

__all__ = [
    "TalkingHeadError",
    "__version__",
    "animate",
    "Animation",
    "load_audio",
    "read_video",
    "write_video",
    "track_video",
    "load_model",
    "Model",
]

if TYPE_CHECKING:  # pragma: no cover
    from .audio.io import load_audio
    from .face.tracking import track_video
    from .inference import Animation, animate
    from .pipeline import Model, load_model
    from .video.io import read_video, write_video


def __getattr__(name: str):
    if name in _LAZY:
        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(mod), attr)
    raise AttributeError(f"module 'talkinghead' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names plus the lazily imported public ones (``animate``, ...)."""
    return sorted(set(globals()) | set(_LAZY))
