"""Read and write video files (PyAV / FFmpeg).

Reading:

- :func:`probe_video` reads the header (and counts packets when the container does not
  state the number of frames);
- :func:`iter_frames` streams RGB frames with their presentation times (bounded memory);
- :func:`read_video` reads frames into one array.

Frame times are presentation timestamps in seconds from the container's start (the
earliest stream), so they can be compared with audio read by
:func:`talkinghead.audio.io.load_audio` (whose sample 0 is the audio stream's first
sample; in the usual files both streams start at 0). Variable frame rate files keep their
true times: ``times`` is not always ``index / fps``.

Writing: :class:`VideoWriter` and :func:`write_video` write H.264 (libx264, yuv420p) +
AAC MP4 files atomically (a temporary file beside the target, renamed on success), with
the audio interleaved so that both streams end together.

Truncated or corrupt files: the frames decoded before the damage are returned with a
``RuntimeWarning``; if no frame decodes, ``VideoDecodeError`` is raised (an MP4 whose
index is missing because the file was cut short cannot be opened at all:
``VideoDecodeError`` too).
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from .._util.atomic import atomic_path
from .._util.media import (
    ESTIMATED_DURATION_FORMATS,
    DecodedFrames,
    check_input_path,
    container_start,
    open_input,
    stream_fps,
    video_streams,
)
from ..errors import (
    InvalidArgumentError,
    MediaError,
    NoVideoStreamError,
    VideoDecodeError,
    check_positive,
)

__all__ = [
    "VideoInfo",
    "VideoFrame",
    "Video",
    "probe_video",
    "iter_frames",
    "read_video",
    "VideoWriter",
    "write_video",
    "fps_to_fraction",
]

#: Output containers the writer accepts (all take H.264 + AAC).
_OUTPUT_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
#: Sample rates the AAC encoder accepts; other rates are resampled to 48 kHz.
_AAC_RATES = frozenset(
    {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}
)
#: Well-known NTSC-style rates that a float fps is snapped to.
_NTSC = (Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001))


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds.

    Attributes
    ----------
    path : str
        The file.
    fps : float
        Average frame rate (frames per second), e.g. 25.0, 29.97, 22.131.
    n_frames : int
        Number of frames (from the container, or counted from the packets).
    width, height : int
        Frame size in pixels.
    duration : float
        Duration of the file in seconds (as the container states it).
    has_audio : bool
        Whether the file has an audio stream.
    audio_sr : int or None
        Sample rate of the first audio stream, None without audio.
    codec : str
        Video codec name (e.g. ``"h264"``, ``"mpeg1video"``, ``"vp6f"``).
    """

    path: str
    fps: float
    n_frames: int
    width: int
    height: int
    duration: float
    has_audio: bool
    audio_sr: int | None
    codec: str


@dataclass(frozen=True)
class VideoFrame:
    """One decoded frame.

    Attributes
    ----------
    index : int
        0-based position in decoding (presentation) order.
    time : float
        Presentation time in seconds from the container's start.
    image : np.ndarray, uint8, shape (H, W, 3)
        RGB pixels.
    """

    index: int
    time: float
    image: np.ndarray


@dataclass
class Video:
    """A video read into memory.

    Attributes
    ----------
    frames : np.ndarray, uint8, shape (T, H, W, 3)
        RGB frames.
    fps : float
        Average frame rate of the file.
    times : np.ndarray, float64, shape (T,)
        Presentation time of each frame in seconds.
    info : VideoInfo
        The file's header (its ``width``/``height`` are the file's, before any ``size``).
    """

    frames: np.ndarray
    fps: float
    times: np.ndarray
    info: VideoInfo

    @property
    def n_frames(self) -> int:
        """Number of frames ``T``."""
        return int(self.frames.shape[0])


# --------------------------------------------------------------------------- reading


def _video_stream(container, path: Path):
    streams = video_streams(container)
    if not streams:
        kinds = sorted({s.type for s in container.streams}) or ["none"]
        raise NoVideoStreamError(
            f"path={str(path)!r} must have a video track: it has no video stream "
            f"(streams: {', '.join(kinds)})"
        )
    return streams[0]


def _count_packets(container, stream) -> int:
    import av

    n = 0
    try:
        for packet in container.demux(stream):
            if packet.size > 0:
                n += 1
    except av.FFmpegError:
        pass
    return n


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Read a video file's header.

    Parameters
    ----------
    path : str or PathLike
        Video file (mp4, mpg, avi, flv, mov, mkv, ...).

    Returns
    -------
    VideoInfo

    Raises
    ------
    MediaError
        The file does not exist.
    VideoDecodeError
        The file cannot be opened as a media file (empty, not media, or cut short).
    NoVideoStreamError
        The file has no video stream (e.g. an audio file).
    """
    p = check_input_path(path)
    with open_input(p, error=VideoDecodeError) as container:
        try:
            info = _probe(container, p)
        except (AttributeError, ValueError, ZeroDivisionError) as e:  # a broken stream header
            raise VideoDecodeError(
                f"path={str(p)!r} must hold a decodable video stream ({type(e).__name__}: {e})"
            ) from None
    if info.width <= 0 or info.height <= 0 or not info.fps > 0:
        raise VideoDecodeError(
            f"path={str(p)!r} must hold a decodable video stream "
            f"(found {info.width}x{info.height} at {info.fps} fps)"
        )
    return info


def _probe(container, p: Path) -> VideoInfo:
    stream = _video_stream(container, p)
    cc = stream.codec_context
    n_frames = int(stream.frames or 0)
    if container.duration is not None and container.duration > 0:
        duration = float(container.duration) / 1e6
    elif stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    else:
        duration = 0.0
    if n_frames <= 0:
        n_frames = _count_packets(container, stream)
        with contextlib.suppress(Exception):
            container.seek(0)
    rate = stream_fps(stream)
    if rate is None:
        fps = n_frames / duration if duration > 0 else 0.0
    else:
        fps = float(rate)
    audio = container.streams.audio
    audio_sr = int(audio[0].codec_context.sample_rate) if audio else None
    codec = cc.name if cc is not None else stream.codec.name
    return VideoInfo(
        path=str(p),
        fps=fps,
        n_frames=n_frames,
        width=int(cc.width if cc is not None else stream.width),
        height=int(cc.height if cc is not None else stream.height),
        duration=duration,
        has_audio=bool(audio),
        audio_sr=audio_sr,
        codec=codec,
    )


def _target_size(size, width: int, height: int) -> tuple[int, int] | None:
    """(w, h) to scale to, or None to keep the size."""
    if size is None:
        return None
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        if size <= 0:
            raise InvalidArgumentError(f"size={size!r} must be a positive int (max side)")
        side = max(width, height)
        if side <= size:
            return None
        scale = size / side
        return max(1, int(round(width * scale))), max(1, int(round(height * scale)))
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            f"size={size!r} must be None, an int (max side) or a (width, height) pair"
        ) from None
    if w <= 0 or h <= 0:
        raise InvalidArgumentError(f"size={size!r} must hold a positive width and height")
    return None if (w, h) == (width, height) else (w, h)


def iter_frames(
    path: str | os.PathLike, *, size: int | tuple[int, int] | None = None
) -> Iterator[VideoFrame]:
    """Decode the frames of a video one at a time (bounded memory).

    Parameters
    ----------
    path : str or PathLike
        Video file.
    size : int or (int, int) or None
        None keeps the size; an int scales frames down (never up) so that their larger
        side is at most ``size`` (aspect ratio kept); ``(width, height)`` scales to exactly
        that size. Scaling uses area averaging.

    Yields
    ------
    VideoFrame
        ``image`` is RGB uint8 of shape (H, W, 3).

    Raises
    ------
    MediaError
        The file does not exist.
    VideoDecodeError
        The file cannot be opened, or no frame decodes (a file that decodes partly yields
        its decodable frames, then warns with a ``RuntimeWarning``).
    NoVideoStreamError
        The file has no video stream (e.g. an audio file).
    InvalidArgumentError
        ``size`` is invalid.

    Notes
    -----
    The file is opened and checked when this function is called; errors about the file
    or ``size`` are raised by the call, not by the first ``next()``.
    """
    p = check_input_path(path)
    container = open_input(p, error=VideoDecodeError)
    try:
        stream = _video_stream(container, p)
        cc = stream.codec_context
        target = _target_size(size, int(cc.width), int(cc.height))
        rate = stream_fps(stream)
        declared = int(stream.frames or 0)
        if (
            declared <= 0
            and rate
            and container.duration
            and (container.format.name not in ESTIMATED_DURATION_FORMATS)
        ):
            declared = int(round(container.duration / 1e6 * float(rate)))
    except BaseException:
        container.close()
        raise
    return _decode_frames(container, stream, p, target, rate, declared)


def _decode_frames(container, stream, p: Path, target, rate, declared) -> Iterator[VideoFrame]:
    stream.thread_type = "AUTO"
    tb = stream.time_base
    t0 = container_start(container)
    step = 1.0 / float(rate) if rate else 0.04
    index = 0
    last_time = None
    try:
        decoded = DecodedFrames(container, stream)
        for frame in decoded:
            if frame.pts is not None and tb is not None:
                time = float(frame.pts * tb) - t0
            elif last_time is not None:
                time = last_time + step
            else:
                time = index * step
            last_time = time
            if target is None:
                image = frame.to_ndarray(format="rgb24")
            else:
                image = frame.reformat(
                    width=target[0], height=target[1], format="rgb24", interpolation="AREA"
                ).to_ndarray()
            yield VideoFrame(index=index, time=time, image=image)
            index += 1
    finally:
        container.close()
    error = decoded.error
    if error is not None:
        if index == 0:
            raise VideoDecodeError(
                f"path={str(p)!r} must hold decodable video: no video frame could be decoded "
                f"({error.strerror or error})"
            )
        _warn_truncated(p, index, error.strerror or error)
    elif index == 0:
        raise VideoDecodeError(
            f"path={str(p)!r} must hold decodable video: no video frame could be decoded"
        )
    elif declared > 0 and index < declared - 2:
        _warn_truncated(p, index, f"the file states about {declared} frames")


def _warn_truncated(p: Path, n: int, why) -> None:
    warnings.warn(
        f"path={str(p)!r} is truncated or corrupt: returning only the {n} frames that "
        f"decode ({why})",
        RuntimeWarning,
        stacklevel=3,
    )


def read_video(
    path: str | os.PathLike,
    *,
    max_frames: int | None = None,
    size: int | tuple[int, int] | None = None,
) -> Video:
    """Read the frames of a video into memory.

    Parameters
    ----------
    path : str or PathLike
        Video file.
    max_frames : int or None
        Read at most this many frames from the start (None: all).
    size : int or (int, int) or None
        As in :func:`iter_frames`.

    Returns
    -------
    Video
        ``frames`` (T, H, W, 3) uint8 RGB, ``times`` (T,), ``fps`` and ``info``.

    Raises
    ------
    MediaError, VideoDecodeError, NoVideoStreamError, InvalidArgumentError
        As :func:`iter_frames`; ``max_frames`` must be a positive int or None.
    """
    if max_frames is not None:
        if (
            isinstance(max_frames, bool)
            or not isinstance(max_frames, (int, np.integer))
            or (max_frames <= 0)
        ):
            raise InvalidArgumentError(f"max_frames={max_frames!r} must be a positive int or None")
    info = probe_video(path)
    images: list[np.ndarray] = []
    times: list[float] = []
    frames = iter_frames(path, size=size)
    try:
        for f in frames:
            images.append(f.image)
            times.append(f.time)
            if max_frames is not None and len(images) >= max_frames:
                break
    finally:
        frames.close()
    return Video(
        frames=np.stack(images),
        fps=info.fps,
        times=np.asarray(times, dtype=np.float64),
        info=info,
    )


# --------------------------------------------------------------------------- writing


def fps_to_fraction(fps) -> Fraction:
    """Exact frame rate for ``fps``: 29.97 -> 30000/1001, 25 -> 25, 22.131 -> 22131/1000.

    Raises
    ------
    InvalidArgumentError
        ``fps`` is not a positive finite number.
    """
    if isinstance(fps, Fraction):
        if fps <= 0:
            raise InvalidArgumentError(f"fps={fps!r} must be a positive number")
        return fps
    v = check_positive("fps", fps)
    for r in _NTSC:
        if abs(v - float(r)) < 5e-3:
            return r
    return Fraction(v).limit_denominator(10000)


class _Aborted(Exception):
    """Internal marker used to discard the temporary file on abort()."""


class VideoWriter:
    """Write an H.264 + AAC video file frame by frame, atomically.

    The target only appears (renamed from a temporary file in the same folder) when
    :meth:`close` succeeds; an exception inside the ``with`` block, or :meth:`abort`,
    removes the temporary file and leaves the target untouched.

    Parameters
    ----------
    path : str or PathLike
        Output file: ``.mp4`` (also ``.m4v``, ``.mov``, ``.mkv``).
    fps : float or Fraction
        Frame rate; non-integer rates such as 29.97 (stored as 30000/1001) work.
    audio : np.ndarray or None, float, shape (n,) or (channels, n)
        Audio to mux (1 or 2 channels, samples in [-1, 1]); None for a silent video.
    sr : int or None
        Sample rate of ``audio`` (required with ``audio``).
    crf : int
        x264 constant rate factor (0-51, lower is better quality).
    preset : str
        x264 preset (``"ultrafast"`` ... ``"veryslow"``).
    pad_audio : bool
        If True the audio is padded with silence or trimmed to ``n_frames / fps`` so that
        both streams end together; if False it is written whole.

    Notes
    -----
    Frames are RGB uint8 arrays of shape (H, W, 3), all the size of the first. Odd widths
    or heights are padded by one pixel (edge repeated) because yuv420p needs even sizes.

    Examples
    --------
    >>> with VideoWriter("out.mp4", fps=25, audio=y, sr=16000) as w:  # doctest: +SKIP
    ...     for image in images:
    ...         w.write(image)
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        fps: float | Fraction,
        audio: np.ndarray | None = None,
        sr: int | None = None,
        crf: int = 20,
        preset: str = "veryfast",
        pad_audio: bool = True,
    ) -> None:
        self.path = Path(path)
        fmt = _OUTPUT_FORMATS.get(self.path.suffix.lower())
        if fmt is None:
            raise InvalidArgumentError(
                f"path={str(self.path)!r} must end with one of {', '.join(_OUTPUT_FORMATS)}"
            )
        self._format = fmt
        self.rate = fps_to_fraction(fps)
        self.fps = float(self.rate)
        if isinstance(crf, bool) or not isinstance(crf, (int, np.integer)) or not 0 <= crf <= 51:
            raise InvalidArgumentError(f"crf={crf!r} must be an int in 0..51")
        self.crf = int(crf)
        self.preset = str(preset)
        self.pad_audio = bool(pad_audio)
        self._audio, self.sr = _check_audio(audio, sr)
        self.n_frames = 0
        self._shape: tuple[int, int] | None = None
        self._atomic = None
        self._tmp: Path | None = None
        self._container = None
        self._vstream = None
        self._astream = None
        self._audio_sent = 0

    # -- context manager -------------------------------------------------------------
    def __enter__(self) -> VideoWriter:
        return self.open()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:  # an unclosed writer never leaves its temporary file
        with contextlib.suppress(Exception):
            self.abort()

    @property
    def is_open(self) -> bool:
        """Whether the writer is open (between :meth:`open` and :meth:`close`/:meth:`abort`)."""
        return self._atomic is not None

    def open(self) -> VideoWriter:
        """Create the temporary output file; returns ``self``. Called by ``with``."""
        import av

        if self._atomic is not None:
            return self
        atomic = atomic_path(self.path)
        self._tmp = atomic.__enter__()
        self._atomic = atomic
        options = {"movflags": "+faststart"} if self._format in ("mp4", "mov") else {}
        try:
            self._container = av.open(
                str(self._tmp), mode="w", format=self._format, options=options
            )
        except av.FFmpegError as e:
            self.abort()
            _raise_if_write_error(self.path, e)
            raise MediaError(f"path={str(self.path)!r} could not be created: {e}") from None
        return self

    def _add_streams(self, width: int, height: int) -> None:
        vs = self._container.add_stream("libx264", rate=self.rate)
        vs.width = width
        vs.height = height
        vs.pix_fmt = "yuv420p"
        vs.codec_context.time_base = 1 / self.rate
        vs.options = {"crf": str(self.crf), "preset": self.preset}
        self._vstream = vs
        if self._audio is not None:
            a = self._container.add_stream("aac", rate=self.sr)
            a.codec_context.layout = "mono" if self._audio.shape[0] == 1 else "stereo"
            a.codec_context.time_base = Fraction(1, self.sr)
            self._astream = a

    def write(self, frame: np.ndarray) -> None:
        """Encode one RGB uint8 frame of shape (H, W, 3).

        Raises
        ------
        InvalidArgumentError
            Wrong dtype or shape, or a size different from the first frame's; the
            writer is aborted (nothing is left on disk).
        """
        import av

        if self._atomic is None:
            if self._container is None and self.n_frames == 0 and self._tmp is None:
                self.open()
            else:
                raise InvalidArgumentError(
                    f"VideoWriter for path={str(self.path)!r} is closed; open a new one"
                )
        try:
            image = self._check_frame(frame)
            if self._vstream is None:
                self._add_streams(image.shape[1], image.shape[0])
            vf = av.VideoFrame.from_ndarray(image, format="rgb24")
            vf.pts = self.n_frames
            vf.time_base = 1 / self.rate
            for packet in self._vstream.encode(vf):
                self._container.mux(packet)
            self.n_frames += 1
            if self._astream is not None:
                self._send_audio(int(round(self.n_frames * self.sr / self.rate)))
        except av.FFmpegError as e:
            self.abort()
            _raise_if_write_error(self.path, e)
            raise MediaError(f"path={str(self.path)!r}: encoding failed: {e}") from None
        except BaseException:
            self.abort()
            raise

    def _check_frame(self, frame) -> np.ndarray:
        a = np.asarray(frame)
        if a.dtype != np.uint8:
            raise InvalidArgumentError(
                f"frame {self.n_frames} dtype={a.dtype} must be uint8 (RGB, 0-255)"
            )
        if a.ndim != 3 or a.shape[2] != 3 or a.shape[0] == 0 or a.shape[1] == 0:
            raise InvalidArgumentError(
                f"frame {self.n_frames} shape={a.shape} must be (H, W, 3) RGB"
            )
        if self._shape is None:
            self._shape = (a.shape[0], a.shape[1])
        elif a.shape[:2] != self._shape:
            raise InvalidArgumentError(
                f"frame {self.n_frames} shape={a.shape} must be "
                f"{(*self._shape, 3)} like the first frame"
            )
        h, w = a.shape[:2]
        if h % 2 or w % 2:
            a = np.pad(a, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        return np.ascontiguousarray(a)

    def _send_audio(self, until: int) -> None:
        """Encode audio samples [sent, until) (silence past the end of the audio)."""
        import av

        if until <= self._audio_sent:
            return
        n_audio = self._audio.shape[1]
        lo = self._audio_sent
        if lo < n_audio:
            chunk = self._audio[:, lo : min(until, n_audio)]
        else:
            chunk = np.zeros((self._audio.shape[0], 0), dtype=np.float32)
        if until > max(lo, n_audio):
            pad = until - max(lo, n_audio)
            chunk = np.concatenate(
                [chunk, np.zeros((self._audio.shape[0], pad), dtype=np.float32)], axis=1
            )
        if chunk.shape[1] == 0:
            return
        layout = "mono" if chunk.shape[0] == 1 else "stereo"
        af = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout=layout)
        af.sample_rate = self.sr
        af.pts = lo
        af.time_base = Fraction(1, self.sr)
        for packet in self._astream.encode(af):
            self._container.mux(packet)
        self._audio_sent = until

    def close(self) -> Path:
        """Flush the encoders, finish the file and rename it onto ``path``.

        Returns
        -------
        Path
            The written file.

        Raises
        ------
        InvalidArgumentError
            No frame was written (nothing is left on disk).
        MediaError
            FFmpeg failed to finish the file (nothing is left on disk).
        """
        import av

        if self._atomic is None:
            if self.n_frames > 0 and self.path.exists():
                return self.path  # already closed
            raise InvalidArgumentError(
                f"VideoWriter for path={str(self.path)!r} was aborted or never opened"
            )
        if self.n_frames == 0:
            self.abort()
            raise InvalidArgumentError(
                f"frames must hold at least one frame; nothing written to path={str(self.path)!r}"
            )
        try:
            if self._astream is not None:
                n_total = int(round(self.n_frames * self.sr / self.rate))
                if not self.pad_audio:
                    n_total = max(self._audio.shape[1], self._audio_sent)
                else:
                    n_total = max(n_total, self._audio_sent)
                self._send_audio(n_total)
                for packet in self._astream.encode(None):
                    self._container.mux(packet)
            for packet in self._vstream.encode(None):
                self._container.mux(packet)
            self._container.close()
            self._container = None
        except av.FFmpegError as e:
            self.abort()
            _raise_if_write_error(self.path, e)
            raise MediaError(f"path={str(self.path)!r}: finishing the file failed: {e}") from None
        except BaseException:
            self.abort()
            raise
        atomic, self._atomic = self._atomic, None
        atomic.__exit__(None, None, None)
        return self.path

    def abort(self) -> None:
        """Stop writing and remove the temporary file; ``path`` is left untouched."""
        container, self._container = self._container, None
        if container is not None:
            with contextlib.suppress(Exception):
                container.close()
        atomic, self._atomic = self._atomic, None
        if atomic is not None:
            with contextlib.suppress(_Aborted):
                atomic.__exit__(_Aborted, _Aborted(), None)


def _raise_if_write_error(path, e) -> None:
    """A full disk or read-only folder met by FFmpeg is the output's OutputError."""
    from .._util.atomic import WRITE_ERRNOS
    from .._util.outputs import output_error

    if isinstance(e, OSError) and e.errno in WRITE_ERRNOS:
        raise output_error(path, e) from None


def _check_audio(audio, sr) -> tuple[np.ndarray | None, int | None]:
    """Audio as C-contiguous float32 (channels, n) at an AAC rate, and its rate."""
    if audio is None:
        return None, None
    a = np.asarray(audio)
    if not np.issubdtype(a.dtype, np.floating):
        raise InvalidArgumentError(
            f"audio dtype={a.dtype} must be floating point (samples in [-1, 1])"
        )
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[0] not in (1, 2):
        raise InvalidArgumentError(
            f"audio shape={np.shape(audio)} must be (n,) or (channels, n) with 1 or 2 channels"
        )
    if sr is None:
        raise InvalidArgumentError("sr=None must be the sample rate of audio (an int > 0)")
    v = check_positive("sr", sr)
    if v != int(v):
        raise InvalidArgumentError(f"sr={sr!r} must be a whole number of Hz")
    sr = int(v)
    a = np.clip(np.nan_to_num(a.astype(np.float32, copy=False)), -1.0, 1.0)
    if sr not in _AAC_RATES:
        import soxr

        a = soxr.resample(np.ascontiguousarray(a.T), sr, 48000, quality="HQ").T
        sr = 48000
    return np.ascontiguousarray(a, dtype=np.float32), sr


def write_video(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    *,
    fps: float | Fraction,
    audio: np.ndarray | None = None,
    sr: int | None = None,
    crf: int = 20,
    preset: str = "veryfast",
    pad_audio: bool = True,
) -> Path:
    """Write frames (and audio) to an H.264 + AAC MP4, atomically.

    Parameters
    ----------
    path : str or PathLike
        Output ``.mp4`` (also ``.m4v``, ``.mov``, ``.mkv``).
    frames : iterable of np.ndarray, uint8, shape (H, W, 3)
        RGB frames, consumed one at a time (a generator is never held in memory).
    fps : float or Fraction
        Frame rate (29.97 is written as 30000/1001).
    audio : np.ndarray or None, float, shape (n,) or (channels, n)
        Audio with 1 or 2 channels in [-1, 1], or None.
    sr : int or None
        Sample rate of ``audio``.
    crf, preset
        x264 quality settings.
    pad_audio : bool
        Pad with silence or trim the audio to ``n_frames / fps`` (default True).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InvalidArgumentError
        Bad ``fps``, ``sr``, audio or frame (wrong dtype/shape, size change, no frames).
    MediaError
        FFmpeg failed. In every error case no file is left at ``path`` (an existing
        file there is left as it was) and no temporary file remains.
    """
    with VideoWriter(
        path, fps=fps, audio=audio, sr=sr, crf=crf, preset=preset, pad_audio=pad_audio
    ) as writer:
        for frame in frames:
            writer.write(frame)
    return writer.path
