"""Incremental acoustic features: the rows of the offline feature functions, computed as
the samples arrive."""

from __future__ import annotations

import numpy as np

from ..audio.framing import hann
from ..errors import check_positive
from .pcm import FrameGrid, SampleBuffer

__all__ = ["EskimezFeatureStream"]


class EskimezFeatureStream:
    """Incremental :func:`talkinghead.audio.features.eskimez2018` (the same rows, exactly).

    Parameters
    ----------
    sr, fps : float
    n_mels : int
    win_length : int, optional
        Default ``round(0.04 sr)``.
    """

    def __init__(
        self, *, sr: float, fps: float, n_mels: int = 64, win_length: int | None = None
    ) -> None:
        from ..audio.logmel import slaney_mel_filterbank

        self.sr = check_positive("sr", sr)
        self.fps = check_positive("fps", fps)
        self.win = int(round(0.04 * self.sr)) if win_length is None else int(win_length)
        self.n_mels = int(n_mels)
        self.grid = FrameGrid(sr=self.sr, fps=self.fps, win=self.win)
        self._hann = hann(self.win)
        self._fb = slaney_mel_filterbank(sr=self.sr, n_fft=self.win, n_mels=self.n_mels)
        self.buf = SampleBuffer()
        self.n_rows = 0  # rows emitted
        self._prev: list[np.ndarray] = []  # last two log-mel rows
        self.done = False

    @property
    def dim(self) -> int:
        return 2 * self.n_mels

    def _emit(self, stop: int) -> np.ndarray:
        t = np.arange(self.n_rows, stop)
        if len(t) == 0:
            return np.zeros((0, self.dim), np.float32)
        frames = self.buf.windows(self.grid.start(t), self.win) * self._hann
        mag = np.abs(np.fft.rfft(frames, n=self.win, axis=1)) / (1 + self.win // 2)
        m = np.log(1e-16 + (mag**2) @ self._fb.T)  # (k, n_mels)
        hist = np.concatenate([*self._prev, m]) if self._prev else m
        off = len(self._prev)
        d1 = np.zeros_like(m)
        d2 = np.zeros_like(m)
        for i, ti in enumerate(t):  # k rows; two-row context (np.diff order of operations)
            j = off + i
            if ti >= 1:
                d1[i] = hist[j] - hist[j - 1]
            if ti >= 2:
                d2[i] = (hist[j] - hist[j - 1]) - (hist[j - 1] - hist[j - 2])
        self._prev = [hist[k][None] for k in range(max(0, len(hist) - 2), len(hist))]
        self.n_rows = stop
        self.buf.discard_before(int(self.grid.start(stop)))
        return np.concatenate([d1, d2], axis=1).astype(np.float32)

    def push(self, y: np.ndarray) -> np.ndarray:
        """Add samples; return the rows now determined, float32 ``(k, 128)``."""
        self.buf.append(y)
        return self._emit(self.grid.n_ready(self.buf.total, False))

    def finish(self) -> np.ndarray:
        """End of signal: the remaining rows (samples past the end read as zeros)."""
        self.done = True
        return self._emit(self.grid.n_ready(self.buf.total, True))
