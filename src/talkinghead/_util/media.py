"""Helpers shared by :mod:`talkinghead.audio.io` and :mod:`talkinghead.video.io`.

PyAV is imported inside the functions so that importing this module stays cheap.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import MediaError

if TYPE_CHECKING:  # fractions imports decimal (~5 ms): only video rates need it
    from fractions import Fraction

#: Container formats whose stream durations are estimates (from the first and last
#: timestamps) rather than exact lengths: audio decoded from them is not trimmed.
ESTIMATED_DURATION_FORMATS = frozenset({"mpeg", "mpegts", "mpegvideo", "mp3"})


def check_input_path(path: str | os.PathLike) -> Path:
    """Return ``path`` as a :class:`~pathlib.Path`; raise ``MediaError`` if it is not a file."""
    p = Path(path)
    if not p.exists():
        raise MediaError(f"path={str(p)!r} must be an existing media file: it does not exist")
    if p.is_dir():
        raise MediaError(f"path={str(p)!r} must be a media file, not a directory")
    return p


def open_input(path: Path, *, error: type[MediaError] = MediaError):
    """Open ``path`` with PyAV for reading; raise ``error`` (a ``MediaError``) if it fails."""
    import av

    try:
        return av.open(str(path), mode="r")
    except av.FFmpegError as e:
        raise error(
            f"path={str(path)!r} must be a readable media file: it could not be opened "
            f"(is it truncated, corrupt or not a media file?): {e.strerror or e}"
        ) from None


def is_attached_picture(stream) -> bool:
    """True for a video stream that is only cover art (e.g. an image inside an mp3)."""
    import av

    try:
        return bool(stream.disposition & av.stream.Disposition.attached_pic)
    except (AttributeError, TypeError):  # pragma: no cover - older PyAV
        return False


def video_streams(container) -> list:
    """The real video streams of ``container`` (cover art left out)."""
    return [s for s in container.streams.video if not is_attached_picture(s)]


def stream_fps(stream) -> Fraction | None:
    """Frame rate of a video stream as a ``Fraction`` (None if the file does not say).

    The average rate (frames / duration) is the true rate; when it agrees with the
    nominal rate to 0.1 % (e.g. 989/33 vs 30000/1001), the nominal, exact one is used.
    """
    from fractions import Fraction

    avg = stream.average_rate
    guessed = getattr(stream, "guessed_rate", None) or stream.base_rate
    if avg and avg > 0:
        if guessed and guessed > 0 and abs(float(guessed) / float(avg) - 1.0) < 1e-3:
            return Fraction(guessed)
        return Fraction(avg)
    if guessed and guessed > 0:
        return Fraction(guessed)
    return None


def container_start(container) -> float:
    """Start time of ``container`` in seconds (0 when unknown)."""
    st = container.start_time
    return float(st) / 1e6 if st is not None else 0.0


class DecodedFrames:
    """The decoded frames of one stream, in order: the demux/decode loop of both readers.

    Iterating yields PyAV frames (audio or video) until the stream ends or FFmpeg fails;
    a failure ends the iteration quietly and is kept in :attr:`error`, so that a reader
    can return what decoded and then warn (a truncated file) or raise (nothing decoded).

    Parameters
    ----------
    container : av.container.InputContainer
        The open input.
    stream : av.stream.Stream
        The stream of ``container`` to decode.

    Attributes
    ----------
    error : av.FFmpegError or None
        The error that ended the iteration, None while none has.
    """

    def __init__(self, container, stream) -> None:
        self.error = None
        self._packets = container.demux(stream)

    def __iter__(self):
        import av

        while True:
            try:
                packet = next(self._packets)
                frames = packet.decode()
            except StopIteration:
                return
            except av.FFmpegError as e:
                self.error = e
                return
            yield from frames
