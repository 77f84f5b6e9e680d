"""Read audio from audio files and from the audio track of video files.

Every reader returns float32 samples in [-1, 1] at the requested rate:

- :func:`load_audio` reads a whole file (or a part of it) into memory;
- :func:`iter_audio_blocks` streams it in fixed-length blocks with bounded memory;
- :func:`audio_info` reads the header only;
- :func:`pcm_to_float` turns PCM bytes or integer samples into those float32 samples.

Decoding uses soundfile for wav/flac/ogg/aiff files (fast path) and PyAV (FFmpeg) for
everything else (mp3, m4a/aac, the audio track of mp4/mpg/avi/flv/mov, ...). Resampling
uses soxr (the resampler behind ``librosa.resample(res_type="soxr_hq")``) in streaming
mode, so :func:`iter_audio_blocks` concatenated equals :func:`load_audio` sample for sample.

Lengths: decoders such as AAC pad their last frame; decoded audio is trimmed to the
duration the container states (not for MPEG-PS/TS and mp3, whose durations are estimates).
Sample 0 is the first decoded sample of the audio stream (a stream start offset such as
AAC priming is not reproduced as leading silence).

Truncated or corrupt files: what can be decoded is returned, with a ``RuntimeWarning``
saying the file is truncated; if nothing at all decodes, ``AudioDecodeError`` is raised.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._util.media import (
    ESTIMATED_DURATION_FORMATS,
    DecodedFrames,
    check_input_path,
    container_start,
    open_input,
)
from ..errors import (
    AudioDecodeError,
    EmptyAudioError,
    InvalidArgumentError,
    NoAudioStreamError,
    check_positive,
)

__all__ = [
    "AudioInfo",
    "audio_info",
    "load_audio",
    "iter_audio_blocks",
    "is_sound_only_file",
    "pcm_to_float",
    "PCM_FORMATS",
]

#: Formats of PCM bytes (:func:`pcm_to_float`): little-endian float32, int16.
PCM_FORMATS = ("f32", "s16")

#: Extensions read with soundfile (libsndfile) when it accepts the file.
_SOUNDFILE_EXTS = frozenset({".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".au"})
#: FFmpeg decoder names -> codec names.
_CODEC_ALIASES = {"mp3float": "mp3", "mp2float": "mp2", "aac_fixed": "aac", "ac3_fixed": "ac3"}
#: Native-rate samples gathered before each resampling call.
_CHUNK = 65536
#: Seek instead of decoding from the start when the offset is at least this many seconds.
_SEEK_MIN_OFFSET = 10.0


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says about its (first) audio stream.

    Attributes
    ----------
    path : str
        The file.
    sr : int
        Native sample rate in Hz.
    channels : int
        Number of channels.
    duration : float
        Duration in seconds as stated by the container (an estimate for some formats).
    n_samples : int
        ``round(duration * sr)``: an estimate of the number of samples per channel.
    codec : str
        Codec name (e.g. ``"pcm_s16le"``, ``"aac"``, ``"mp3"``, ``"flac"``).
    """

    path: str
    sr: int
    channels: int
    duration: float
    n_samples: int
    codec: str


# --------------------------------------------------------------------------- checks


def pcm_to_float(data, fmt: str = "f32") -> np.ndarray:
    """PCM bytes or samples as float32.

    Parameters
    ----------
    data : bytes, bytearray, memoryview or ndarray
        Bytes: little-endian float32 (``"f32"``) or int16 (``"s16"``, scaled by 1 / 2**15).
        An array is taken by its dtype: floats unchanged, signed integers (int16, int32, ...)
        scaled by 1 / 2**15, 1 / 2**31, ..., uint8 centred on 128 and scaled by 1 / 128
        (WAV's 8-bit PCM).
    fmt : {"f32", "s16"}
        Format of bytes.

    Returns
    -------
    np.ndarray, float32, same shape (bytes: shape (n,))

    Raises
    ------
    InvalidArgumentError
        Unknown format, a byte count that is not a multiple of the sample size, a dtype
        that is neither float nor integer PCM, or non-finite samples.
    """
    if fmt not in PCM_FORMATS:
        raise InvalidArgumentError(f"format={fmt!r} must be one of {list(PCM_FORMATS)}")
    if isinstance(data, bytes | bytearray | memoryview):
        size = 4 if fmt == "f32" else 2
        if len(data) % size:
            raise InvalidArgumentError(
                f"PCM message of {len(data)} bytes must be a multiple of {size} (format={fmt!r})"
            )
        a = np.frombuffer(data, dtype="<f4" if fmt == "f32" else "<i2")
    else:
        a = np.asarray(data)
    if a.dtype == np.uint8:
        y = (a.astype(np.float32) - 128.0) / 128.0
    elif np.issubdtype(a.dtype, np.signedinteger):
        bits = {1: 7, 2: 15, 4: 31, 8: 63}[a.dtype.itemsize]
        y = (a.astype(np.float64) / float(2**bits)).astype(np.float32)
    elif np.issubdtype(a.dtype, np.floating) or a.dtype == bool:
        y = a.astype(np.float32)
    else:
        raise InvalidArgumentError(f"audio.dtype={a.dtype} must be a float or integer PCM type")
    if not np.all(np.isfinite(y)):
        raise InvalidArgumentError("audio samples must be finite (found NaN/inf)")
    return y


def _check_sr(sr, *, allow_none: bool = True) -> int | None:
    if sr is None and allow_none:
        return None
    v = check_positive("sr", sr)
    if v != int(v):
        raise InvalidArgumentError(f"sr={sr!r} must be a whole number of Hz")
    return int(v)


def _check_offset_duration(offset, duration) -> tuple[float, float | None]:
    try:
        off = float(offset)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"offset={offset!r} must be a number of seconds >= 0") from None
    if not np.isfinite(off) or off < 0:
        raise InvalidArgumentError(f"offset={offset!r} must be a finite number of seconds >= 0")
    dur = None if duration is None else check_positive("duration", duration)
    return off, dur


def _check_audio_path(path) -> Path:
    p = check_input_path(path)
    if p.stat().st_size == 0:
        raise EmptyAudioError(f"path={str(p)!r} must hold audio: it is an empty file (0 bytes)")
    return p


# --------------------------------------------------------------------------- 16-bit PCM wav


@dataclass(frozen=True)
class _PcmWav:
    """A plain 16-bit PCM RIFF/WAVE file (the fields :func:`_soundfile_info` callers read)."""

    samplerate: int
    channels: int
    frames: int
    data_offset: int
    subtype: str = "PCM_16"
    format: str = "WAV"


def _pcm16_wav(path: Path) -> _PcmWav | None:
    """The header of a 16-bit PCM ``.wav`` (the commonest speech file), read with the
    standard library: reading one needs neither soundfile nor its cffi/ctypes imports
    (~20 ms of a short command). None for anything else (float, 8/24/32-bit or
    WAVE_FORMAT_EXTENSIBLE data, RIFX, a malformed header), which soundfile then reads.

    Like libsndfile, a data chunk that runs past the end of the file (a truncated file)
    counts only the whole frames that are there."""
    import struct

    if path.suffix.lower() != ".wav":
        return None
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            fmt = None
            pos = 12
            while True:
                f.seek(pos)
                ck = f.read(8)
                if len(ck) < 8:
                    return None
                cid, n = ck[:4], struct.unpack("<I", ck[4:])[0]
                if cid == b"fmt ":
                    body = f.read(min(n, 16))
                    if len(body) < 16:
                        return None
                    fmt = struct.unpack("<HHIIHH", body)
                elif cid == b"data":
                    break
                pos += 8 + n + (n & 1)  # chunks are padded to an even length
    except OSError:
        return None
    if fmt is None:
        return None
    tag, channels, sr, _, align, bits = fmt
    if tag != 1 or bits != 16 or channels < 1 or sr < 1 or align != 2 * channels:
        return None
    if n in (0, 0xFFFFFFFF):  # a streamed wav whose writer never filled in the size
        return None
    data = pos + 8
    frames = min(n, max(size - data, 0)) // align
    return _PcmWav(samplerate=sr, channels=channels, frames=frames, data_offset=data)


def _pcm16_chunks(path: Path, info: _PcmWav, off: float, dur: float | None):
    """:func:`_sf_chunks` for a :func:`_pcm16_wav` file: the same blocks, the same samples
    (libsndfile scales 16-bit PCM by 1 / 32768 too)."""
    sr, ch = info.samplerate, info.channels
    start = min(int(round(off * sr)), info.frames)
    stop = info.frames if dur is None else min(start + int(round(dur * sr)), info.frames)
    with open(path, "rb") as f:
        f.seek(info.data_offset + start * 2 * ch)
        at = start
        while at < stop:
            n = min(_CHUNK, stop - at)
            raw = np.frombuffer(f.read(n * 2 * ch), dtype="<i2")
            n = raw.size // ch
            if n == 0:
                break
            at += n
            block = raw[: n * ch].reshape(n, ch).T.astype(np.float32)
            block *= np.float32(1.0 / 32768.0)
            yield np.ascontiguousarray(block)


# --------------------------------------------------------------------------- soundfile


def _soundfile_info(path: Path):
    """``soundfile.info(path)`` for a file soundfile can read, else None (a 16-bit PCM
    wav: :func:`_pcm16_wav`'s header, without importing soundfile)."""
    if path.suffix.lower() not in _SOUNDFILE_EXTS:
        return None
    wav = _pcm16_wav(path)
    if wav is not None:
        return wav
    import soundfile as sf

    try:
        return sf.info(str(path))
    except (RuntimeError, sf.LibsndfileError, TypeError, ValueError):
        return None


def is_sound_only_file(path: str | os.PathLike) -> bool:
    """True for a file libsndfile reads that cannot hold video (wav, flac, aiff, au).

    Lets callers skip probing for a video stream (which imports PyAV) on plain audio.
    """
    p = Path(path)
    if p.suffix.lower() not in _SOUNDFILE_EXTS - {".ogg", ".oga"}:  # Ogg may carry Theora
        return False
    try:
        return p.is_file() and p.stat().st_size > 0 and _soundfile_info(p) is not None
    except OSError:
        return False


def _sf_chunks(path: Path, info, off: float, dur: float | None) -> Iterator[np.ndarray]:
    import soundfile as sf

    sr = int(info.samplerate)
    start = int(round(off * sr))
    stop = None if dur is None else start + int(round(dur * sr))
    total = int(info.frames)
    if stop is not None:
        stop = min(stop, total)
    got = 0
    with sf.SoundFile(str(path)) as f:
        if start > 0:
            f.seek(min(start, total))
        remaining = None if stop is None else max(0, stop - start)
        while remaining is None or remaining > 0:
            n = _CHUNK if remaining is None else min(_CHUNK, remaining)
            try:
                block = f.read(n, dtype="float32", always_2d=True)
            except (RuntimeError, sf.LibsndfileError) as e:
                _warn_truncated(path, got, sr, e)
                return
            if block.shape[0] == 0:
                break
            got += block.shape[0]
            if remaining is not None:
                remaining -= block.shape[0]
            yield np.ascontiguousarray(block.T)
    expected = (total if stop is None else stop) - start
    if 0 < got < expected - sr // 100:
        _warn_truncated(path, got, sr, "file ended before its stated length")


def _warn_truncated(path: Path, got: int, sr: int, why) -> None:
    if got == 0:
        raise AudioDecodeError(
            f"path={str(path)!r} must hold decodable audio: no audio could be decoded ({why})"
        )
    warnings.warn(
        f"path={str(path)!r} is truncated or corrupt: returning only the {got / sr:.3f} s "
        f"of audio that decode ({why})",
        RuntimeWarning,
        stacklevel=4,
    )


# --------------------------------------------------------------------------- PyAV


def _frame_to_array(frame) -> np.ndarray:
    """A decoded PyAV audio frame as float32 (channels, n)."""
    a = frame.to_ndarray()
    fmt = frame.format
    channels = len(frame.layout.channels)
    if not fmt.is_planar:
        a = a.reshape(-1, channels).T
    if a.dtype == np.float32:
        return a
    if a.dtype == np.float64:
        return a.astype(np.float32)
    if a.dtype == np.int16:
        return a.astype(np.float32) * (1.0 / 32768.0)
    if a.dtype == np.int32:
        return (a.astype(np.float64) * (1.0 / 2147483648.0)).astype(np.float32)
    if a.dtype == np.uint8:
        return (a.astype(np.float32) - 128.0) * (1.0 / 128.0)
    if a.dtype == np.int64:
        return (a.astype(np.float64) * (1.0 / 9223372036854775808.0)).astype(np.float32)
    raise AudioDecodeError(f"sample format={fmt.name!r} is not supported")  # pragma: no cover


def _audio_stream(container, path: Path):
    if not container.streams.audio:
        kinds = sorted({s.type for s in container.streams}) or ["none"]
        raise NoAudioStreamError(
            f"path={str(path)!r} must have an audio track: it has no audio stream "
            f"(streams: {', '.join(kinds)})"
        )
    return container.streams.audio[0]


def _declared_seconds(container, stream) -> float | None:
    """Duration of ``stream`` in seconds when the container states it exactly, else None."""
    if container.format.name in ESTIMATED_DURATION_FORMATS:
        return None
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        start = 0.0
        if stream.start_time is not None and stream.time_base is not None:
            start = max(
                0.0, float(stream.start_time * stream.time_base) - container_start(container)
            )
        return float(container.duration) / 1e6 - start
    return None


def _av_chunks(path: Path, off: float, dur: float | None) -> tuple[int, int, Iterator]:
    """Open ``path`` with PyAV; return (sr, channels, iterator of (channels, n) float32)."""
    import av

    container = open_input(path, error=AudioDecodeError)
    try:
        stream = _audio_stream(container, path)
        cc = stream.codec_context
        sr = int(cc.sample_rate or 0)
        channels = int(getattr(cc, "channels", 0) or len(cc.layout.channels) or 0)
        if sr <= 0 or channels <= 0:
            raise AudioDecodeError(
                f"path={str(path)!r} must state a positive sample rate and channel count: "
                f"its audio stream states sr={sr}, channels={channels}"
            )
        declared = _declared_seconds(container, stream)
    except BaseException:
        container.close()
        raise

    start = int(round(off * sr))
    stop = None if dur is None else start + int(round(dur * sr))
    if declared is not None:
        limit = int(round(declared * sr))
        stop = limit if stop is None else min(stop, limit)

    def gen() -> Iterator[np.ndarray]:
        nonlocal container, stream
        try:
            pos = 0  # index of the next decoded sample, from the stream's first sample
            seeked = False
            tb = stream.time_base
            first_pts = stream.start_time if stream.start_time is not None else 0
            if off >= _SEEK_MIN_OFFSET and tb is not None:
                try:
                    container.seek(int((off - 1.0) / tb) + first_pts, stream=stream, backward=True)
                    seeked = True
                except av.FFmpegError:
                    seeked = False
            got = 0
            decoded_any = False
            buf: list[np.ndarray] = []
            nbuf = 0
            need_pos = seeked
            decoded = DecodedFrames(container, stream)
            restart = True
            while restart:
                restart = False
                for frame in decoded:
                    if need_pos:
                        need_pos = False
                        if frame.pts is None or tb is None:
                            seeked = False
                        else:
                            pos = int(round(float((frame.pts - first_pts) * tb) * sr))
                            if pos > start:  # seeked too far: decode from the start instead
                                seeked = False
                        if not seeked:
                            container.close()
                            container = open_input(path, error=AudioDecodeError)
                            stream = container.streams.audio[0]
                            decoded = DecodedFrames(container, stream)
                            pos = 0
                            restart = True
                            break
                    a = _frame_to_array(frame)
                    decoded_any = True
                    n = a.shape[1]
                    lo, hi = max(start - pos, 0), n if stop is None else min(n, stop - pos)
                    pos += n
                    if hi > lo:
                        buf.append(a[:, lo:hi])
                        nbuf += hi - lo
                    if nbuf >= _CHUNK:
                        got += nbuf
                        yield np.concatenate(buf, axis=1)
                        buf, nbuf = [], 0
                    if stop is not None and pos >= stop:
                        break
            error = decoded.error
            if buf:
                got += nbuf
                yield np.concatenate(buf, axis=1)
            if error is not None:
                if not decoded_any:
                    raise AudioDecodeError(
                        f"path={str(path)!r} must hold decodable audio: no audio could be "
                        f"decoded ({error.strerror or error})"
                    )
                _warn_truncated(path, max(got, 1), sr, error.strerror or error)
            elif declared is not None and stop is not None and pos < stop - sr // 10:
                _warn_truncated(
                    path,
                    max(got, 1) if decoded_any else 0,
                    sr,
                    f"decoded {pos / sr:.3f} s of the {declared:.3f} s the file states",
                )
        finally:
            container.close()

    return sr, channels, gen()


# --------------------------------------------------------------------------- native


def _native_chunks(
    path: str | os.PathLike, off: float, dur: float | None
) -> tuple[Path, int, int, Iterator[np.ndarray]]:
    """(path, native sr, channels, iterator of float32 (channels, n) chunks)."""
    p = _check_audio_path(path)
    info = _soundfile_info(p)
    if info is not None and info.frames > 0:
        read = _pcm16_chunks if isinstance(info, _PcmWav) else _sf_chunks
        return p, int(info.samplerate), int(info.channels), read(p, info, off, dur)
    if info is not None:  # a valid header with no samples
        raise EmptyAudioError(f"path={str(p)!r} must hold audio: it holds 0 audio samples")
    sr, channels, chunks = _av_chunks(p, off, dur)
    return p, sr, channels, chunks


def _resampled(
    chunks: Iterator[np.ndarray], *, sr_in: int, sr_out: int, channels: int, mono: bool
) -> Iterator[np.ndarray]:
    """Downmix (if ``mono``) and resample a stream of (channels, n) chunks.

    Yields (n,) arrays when ``mono`` else (channels, n) arrays, all float32.
    """
    out_ch = 1 if mono else channels
    rs = None
    if sr_in != sr_out:
        import soxr

        rs = soxr.ResampleStream(sr_in, sr_out, out_ch, dtype="float32", quality="HQ")
    for a in chunks:
        if mono:
            x = a[0] if a.shape[0] == 1 else a.mean(axis=0, dtype=np.float32)
        else:
            x = a
        if rs is None:
            yield np.ascontiguousarray(x, dtype=np.float32)
            continue
        y = rs.resample_chunk(np.ascontiguousarray(x if mono else x.T), last=False)
        if y.shape[0]:
            yield y if mono else np.ascontiguousarray(y.T)
    if rs is not None:
        empty = np.zeros((0,) if mono else (0, out_ch), dtype=np.float32)
        y = rs.resample_chunk(empty, last=True)
        if y.shape[0]:
            yield y if mono else np.ascontiguousarray(y.T)


# --------------------------------------------------------------------------- public


def audio_info(path: str | os.PathLike) -> AudioInfo:
    """Read the header of an audio file or of the audio track of a video file.

    Parameters
    ----------
    path : str or PathLike
        Audio (wav, flac, mp3, m4a, ogg, ...) or video (mp4, mpg, avi, flv, mov, ...) file.

    Returns
    -------
    AudioInfo

    Raises
    ------
    MediaError
        The file does not exist.
    EmptyAudioError
        The file is empty (0 bytes).
    AudioDecodeError
        The file is not a media file FFmpeg can open.
    NoAudioStreamError
        The file holds no audio stream.
    """
    p = _check_audio_path(path)
    info = _soundfile_info(p)
    if info is not None:
        sr = int(info.samplerate)
        codec = {
            "PCM_16": "pcm_s16le",
            "PCM_24": "pcm_s24le",
            "PCM_32": "pcm_s32le",
            "FLOAT": "pcm_f32le",
            "DOUBLE": "pcm_f64le",
            "PCM_U8": "pcm_u8",
            "VORBIS": "vorbis",
            "OPUS": "opus",
        }.get(info.subtype, info.subtype.lower())
        if info.format == "FLAC":
            codec = "flac"
        return AudioInfo(str(p), sr, int(info.channels), info.frames / sr, int(info.frames), codec)
    with open_input(p, error=AudioDecodeError) as container:
        stream = _audio_stream(container, p)
        cc = stream.codec_context
        sr = int(cc.sample_rate or 0)
        channels = int(getattr(cc, "channels", 0) or len(cc.layout.channels))
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = float(container.duration) / 1e6
        else:
            duration = 0.0
        codec = cc.name if cc is not None else stream.codec.name
    codec = _CODEC_ALIASES.get(codec, codec)
    return AudioInfo(str(p), sr, channels, duration, int(round(duration * sr)), codec)


def iter_audio_blocks(
    path: str | os.PathLike,
    *,
    sr: int | None = 16000,
    block_duration: float = 10.0,
    mono: bool = True,
    offset: float = 0.0,
    duration: float | None = None,
) -> Iterator[np.ndarray]:
    """Stream the audio of ``path`` in blocks of ``block_duration`` seconds.

    Memory is bounded by a few blocks whatever the file length. The blocks,
    concatenated, equal :func:`load_audio` with the same arguments exactly.

    Parameters
    ----------
    path : str or PathLike
        Audio or video file.
    sr : int or None
        Output sample rate in Hz; None keeps the native rate.
    block_duration : float
        Seconds per block; every block but the last has ``round(block_duration * sr)``
        samples.
    mono : bool
        Average the channels into one.
    offset, duration : float
        Read ``duration`` seconds (None: to the end) starting ``offset`` seconds in.

    Yields
    ------
    block : np.ndarray, float32, shape (n,) when ``mono`` else (channels, n)

    Raises
    ------
    InvalidArgumentError, MediaError, EmptyAudioError, AudioDecodeError, NoAudioStreamError
        As :func:`load_audio`. Bad arguments, a missing, empty or unreadable file and a
        missing audio stream are raised by the call itself, before any block is read.
    """
    sr_out = _check_sr(sr)
    block_s = check_positive("block_duration", block_duration)
    off, dur = _check_offset_duration(offset, duration)
    p, sr_in, channels, chunks = _native_chunks(path, off, dur)
    sr_out = sr_in if sr_out is None else sr_out
    block = max(1, int(round(block_s * sr_out)))

    def gen() -> Iterator[np.ndarray]:
        pending: list[np.ndarray] = []
        n_pending = 0
        total = 0
        try:
            for y in _resampled(chunks, sr_in=sr_in, sr_out=sr_out, channels=channels, mono=mono):
                pending.append(y)
                n_pending += y.shape[-1]
                if n_pending < block:
                    continue
                buf = np.concatenate(pending, axis=-1)
                n_full = (buf.shape[-1] // block) * block
                for i in range(0, n_full, block):
                    total += block
                    yield buf[..., i : i + block]
                rest = buf[..., n_full:]
                pending, n_pending = [rest], rest.shape[-1]
            if n_pending:
                total += n_pending
                yield np.concatenate(pending, axis=-1)
            if total == 0:
                raise EmptyAudioError(_empty_message(p, off))
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    return gen()


def _empty_message(p: Path, off: float) -> str:
    if off > 0:
        return f"offset={off} must be before the end of path={str(p)!r}: no audio after it"
    return f"path={str(p)!r} must hold audio: it holds 0 audio samples"


def load_audio(
    path: str | os.PathLike,
    *,
    sr: int | None = 16000,
    mono: bool = True,
    offset: float = 0.0,
    duration: float | None = None,
) -> tuple[np.ndarray, int]:
    """Read the audio of an audio or video file as float32 at ``sr`` Hz.

    Parameters
    ----------
    path : str or PathLike
        Audio (wav, flac, mp3, m4a, ogg, ...) or video (mp4, mpg, avi, flv, mov, ...) file.
    sr : int or None
        Output sample rate in Hz (resampled with soxr "HQ"); None keeps the native rate.
    mono : bool
        Average the channels into one.
    offset : float
        Seconds to skip at the start.
    duration : float or None
        Seconds to read (None: to the end).

    Returns
    -------
    y : np.ndarray, float32, shape (n,) when ``mono`` else (channels, n)
        Samples in [-1, 1].
    sr : int
        The sample rate of ``y``.

    Raises
    ------
    InvalidArgumentError
        ``sr``, ``offset`` or ``duration`` out of range.
    MediaError
        The file does not exist.
    EmptyAudioError
        The file is empty, or holds no samples (after ``offset``).
    AudioDecodeError
        Not a media file, or nothing decodes. (A file that decodes partly is returned
        as far as it decodes, with a ``RuntimeWarning``.)
    NoAudioStreamError
        A video file without an audio track.
    """
    sr_out = _check_sr(sr)
    off, dur = _check_offset_duration(offset, duration)
    p, sr_in, channels, chunks = _native_chunks(path, off, dur)
    sr_out = sr_in if sr_out is None else sr_out
    parts = list(_resampled(chunks, sr_in=sr_in, sr_out=sr_out, channels=channels, mono=mono))
    if not parts:
        raise EmptyAudioError(_empty_message(p, off))
    y = np.concatenate(parts, axis=-1) if len(parts) > 1 else parts[0]
    if y.shape[-1] == 0:
        raise EmptyAudioError(_empty_message(p, off))
    return np.ascontiguousarray(y, dtype=np.float32), sr_out
