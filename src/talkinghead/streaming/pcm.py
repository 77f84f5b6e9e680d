"""PCM input of a stream: bytes or arrays at any rate -> float32 at the animators' 16 kHz
(:class:`PcmConverter`; decoding: :func:`talkinghead.audio.io.pcm_to_float`), and the
bookkeeping of the recent samples (:class:`SampleBuffer`) and of the rows they determine
(:class:`FrameGrid`)."""

from __future__ import annotations

import math

import numpy as np

from ..audio.features import n_frames_for
from ..audio.framing import centred_starts, gather_windows
from ..audio.io import PCM_FORMATS, pcm_to_float
from ..errors import InvalidArgumentError, check_positive

__all__ = ["MODEL_SR", "FORMATS", "pcm_to_float", "PcmConverter", "SampleBuffer", "FrameGrid"]

#: Sampling rate every animator works at.
MODEL_SR = 16000
#: Formats of pushed PCM bytes.
FORMATS = PCM_FORMATS


def _mono_pcm(data, fmt: str) -> np.ndarray:
    y = pcm_to_float(data, fmt)
    if y.ndim != 1:
        raise InvalidArgumentError(f"chunk.shape={y.shape} must be 1-D (mono samples)")
    return y


class PcmConverter:
    """Incremental PCM decoding and resampling to ``out_rate`` (soxr, HQ).

    ``concat(push(c) for c in chunks) + end()`` equals ``soxr.resample(y, in_rate,
    out_rate)`` of the whole signal exactly, for any chunking.
    """

    def __init__(self, in_rate: int, out_rate: int = MODEL_SR, fmt: str = "f32") -> None:
        if fmt not in FORMATS:
            raise InvalidArgumentError(f"format={fmt!r} must be one of {list(FORMATS)}")
        in_rate = int(check_positive("sample_rate", in_rate))
        if not 4000 <= in_rate <= 192000:
            raise InvalidArgumentError(f"sample_rate={in_rate} must be in [4000, 192000] Hz")
        self.in_rate, self.out_rate, self.fmt = in_rate, int(out_rate), fmt
        self.samples_in = 0
        self._rs = None
        if in_rate != self.out_rate:
            import soxr

            self._rs = soxr.ResampleStream(in_rate, self.out_rate, 1, dtype="float32")

    def push(self, data) -> np.ndarray:
        """Decode and resample one chunk; returns the float32 samples now available."""
        y = _mono_pcm(data, self.fmt)
        self.samples_in += len(y)
        if self._rs is None:
            return y
        return self._rs.resample_chunk(y, last=False)

    def end(self) -> np.ndarray:
        """The resampler's tail (empty without resampling)."""
        if self._rs is None:
            return np.zeros(0, np.float32)
        return self._rs.resample_chunk(np.zeros(0, np.float32), last=True)

    def offline(self, y) -> np.ndarray:
        """The whole-signal equivalent: decode and resample ``y`` in one go."""
        y = _mono_pcm(y, self.fmt)
        if self.in_rate == self.out_rate:
            return y
        import soxr

        return soxr.resample(y, self.in_rate, self.out_rate).astype(np.float32)


class SampleBuffer:
    """The recent part of a signal: absolute sample indices, zeros outside."""

    def __init__(self) -> None:
        self.data = np.zeros(0, np.float64)
        self.start = 0  # absolute index of data[0]
        self.total = 0  # samples received so far

    def append(self, y: np.ndarray) -> None:
        if len(y):
            self.data = np.concatenate([self.data, np.asarray(y, np.float64)])
            self.total += len(y)

    def windows(self, starts: np.ndarray, length: int) -> np.ndarray:
        """``(k, length)`` windows at absolute ``starts`` (zeros before 0 and past the end)."""
        return gather_windows(self.data, np.asarray(starts, np.int64) - self.start, length)

    def discard_before(self, index: int) -> None:
        drop = min(max(0, int(index) - self.start), len(self.data))
        if drop:
            self.data = self.data[drop:]
            self.start += drop


class FrameGrid:
    """Window positions of rows ``t`` (as in the feature functions) and their readiness."""

    def __init__(self, *, sr: float, fps: float, win: int) -> None:
        self.sr, self.fps, self.win = float(sr), float(fps), int(win)

    def start(self, t) -> np.ndarray:
        return centred_starts(t, sr=self.sr, fps=self.fps, win=self.win)

    def need(self, t: int) -> int:
        """Samples needed before row ``t`` is determined (window end, and a frame count > t)."""
        end = int(self.start(t)) + self.win
        # smallest n with n_frames_for(n / sr) > t: n/sr*fps >= t + 0.5 (+1 sample for ties)
        n_min = int(math.ceil((t + 0.5) * self.sr / self.fps))
        while n_frames_for(n_min / self.sr, self.fps) <= t:
            n_min += 1
        return max(end, n_min)

    def n_ready(self, received: int, done: bool) -> int:
        """Number of rows determined by ``received`` samples (all rows when ``done``)."""
        n = n_frames_for(received / self.sr, self.fps)
        if done:
            return n
        # rows are ready in order; the last one whose window ends within `received`
        k = int(math.floor((received - self.win / 2.0 - 0.5) * self.fps / self.sr - 0.5)) + 2
        k = max(0, min(k, n))
        while k > 0 and int(self.start(k - 1)) + self.win > received:
            k -= 1
        while k < n and int(self.start(k)) + self.win <= received:
            k += 1
        return k
