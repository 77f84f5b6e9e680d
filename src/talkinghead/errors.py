"""One exception hierarchy for talkinghead.

Every error a user can cause derives from :class:`TalkingHeadError`. Messages
follow the pattern ``name=value must ...``: they say what was wrong and what
was expected, so that the CLI can print them without a traceback.
"""

from __future__ import annotations

__all__ = [
    "TalkingHeadError",
    "InvalidArgumentError",
    "MediaError",
    "AudioDecodeError",
    "VideoDecodeError",
    "NoAudioStreamError",
    "NoVideoStreamError",
    "EmptyAudioError",
    "FaceNotFoundError",
    "DependencyError",
    "CheckpointError",
]


class TalkingHeadError(Exception):
    """Base class of every error raised on purpose by talkinghead."""


class InvalidArgumentError(TalkingHeadError, ValueError):
    """A parameter has a value outside what is accepted (``name=value must ...``)."""


class MediaError(TalkingHeadError):
    """A media file is missing, unreadable, truncated or of the wrong kind."""


class AudioDecodeError(MediaError):
    """The audio of a file could not be decoded."""


class VideoDecodeError(MediaError):
    """The video frames of a file could not be decoded."""


class NoAudioStreamError(MediaError):
    """The file holds no audio stream."""


class NoVideoStreamError(MediaError):
    """The file holds no video stream."""


class EmptyAudioError(MediaError):
    """The audio has zero samples (or is shorter than one video frame)."""


class FaceNotFoundError(TalkingHeadError):
    """No face could be found where one is required."""


class DependencyError(TalkingHeadError, ImportError):
    """An optional dependency needed by the requested feature is not installed."""


class CheckpointError(TalkingHeadError):
    """A model checkpoint folder is missing files or is inconsistent."""


def as_float_array(x, name: str):
    """``x`` as a float64 numpy array, else ``InvalidArgumentError`` naming ``name``."""
    import numpy as np

    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            f"{name} must be a numeric array, got {type(x).__name__}"
        ) from None


def check_positive(name: str, value: float) -> float:
    """Return ``value`` if it is a finite number > 0, else raise ``InvalidArgumentError``."""
    import math

    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{name}={value!r} must be a positive number") from None
    if not math.isfinite(v) or v <= 0:
        raise InvalidArgumentError(f"{name}={value!r} must be a positive finite number")
    return v


class AlignmentError(TalkingHeadError):
    """Forced alignment of a transcript to audio failed (the decoder found no path)."""


__all__ += ["AlignmentError"]


class MultipleFacesError(FaceNotFoundError):
    """Several faces were found where exactly one is expected (pick one explicitly)."""


class FaceQualityError(FaceNotFoundError):
    """A face was found but cannot be used: too small, or turned too far (profile view)."""


__all__ += ["MultipleFacesError", "FaceQualityError"]


class PersonalizeError(TalkingHeadError):
    """A video cannot be used to personalise a talking face (see its subclasses)."""


class TooFewFramesError(PersonalizeError):
    """The video has too few frames (or too few frames with a tracked face)."""


class FaceLostError(PersonalizeError, FaceNotFoundError):
    """The face is missing (not found, or several faces) in too many frames of a video."""


__all__ += ["PersonalizeError", "TooFewFramesError", "FaceLostError"]


class OutputError(TalkingHeadError, OSError):
    """An output cannot be written (full disk, read-only folder, ...): nothing was written."""


__all__ += ["OutputError"]
