"""Whisper's log-mel spectrogram in numpy (no librosa, scipy or numba import).

The default model's front end (:mod:`talkinghead.models.student`) and the Whisper
variant (:mod:`talkinghead.models.default`) both read the 80-band log-mel spectrogram
that Whisper uses. It was computed with ``librosa`` when the shipped models were
trained; importing librosa (and with it numba, llvmlite and ``scipy.signal``) cost
1-5 s of a cold ``talkinghead animate``, for one matrix and one STFT. This module
computes the same numbers with numpy alone: the Slaney mel filterbank of
``librosa.filters.mel`` and the centred, zero-padded Hann STFT of ``librosa.stft``
(``tests/audio/test_logmel.py`` checks both against librosa where it is installed).
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError, check_positive

__all__ = [
    "WHISPER_SR", "N_FFT", "HOP", "N_MELS", "slaney_mel_filterbank", "chroma_filterbank",
    "power_spectrogram", "whisper_logmel",
]  # fmt: skip

#: Sample rate of the Whisper front end.
WHISPER_SR = 16000
#: STFT size and hop (25 ms window, 10 ms hop at 16 kHz) and the number of mel bands.
N_FFT, HOP, N_MELS = 400, 160, 80

_FB: dict = {}
_CHUNK = 256  # STFT frames per block (~200 KB of complex64)
_WINDOW: dict = {}

# Slaney's auditory-toolbox mel scale (librosa's default, htk=False): linear below 1 kHz,
# logarithmic above.
_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    f = np.asarray(f, dtype=np.float64)
    m = f / _F_SP
    log = f >= _MIN_LOG_HZ
    return np.where(log, _MIN_LOG_MEL + np.log(np.maximum(f, 1e-300) / _MIN_LOG_HZ) / _LOGSTEP, m)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    f = _F_SP * m
    log = m >= _MIN_LOG_MEL
    return np.where(log, _MIN_LOG_HZ * np.exp(_LOGSTEP * (m - _MIN_LOG_MEL)), f)


def slaney_mel_filterbank(
    *, sr: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None
) -> np.ndarray:
    """Triangular mel filters, Slaney scale and area normalisation (``librosa.filters.mel``).

    Parameters
    ----------
    sr : float
        Sample rate.
    n_fft : int
        FFT size (the filters cover its ``n_fft // 2 + 1`` bins).
    n_mels : int
        Number of bands.
    fmin, fmax : float
        Band edges in Hz (``fmax`` default ``sr / 2``).

    Returns
    -------
    np.ndarray, float32, shape (n_mels, n_fft // 2 + 1)
    """
    sr = float(check_positive("sr", sr))
    n_fft = int(check_positive("n_fft", n_fft))
    n_mels = int(check_positive("n_mels", n_mels))
    fmax = sr / 2.0 if fmax is None else float(fmax)
    if not 0 <= fmin < fmax:
        raise InvalidArgumentError(f"fmin={fmin!r} must be >= 0 and below fmax={fmax!r}")
    fft_f = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_f[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    w = np.maximum(0.0, np.minimum(lower, upper))
    w *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return w.astype(np.float32)


def chroma_filterbank(*, sr: int, n_fft: int, n_chroma: int = 12) -> np.ndarray:
    """Chroma filters of ``librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=0.0)``.

    Gaussian bumps in log frequency around each pitch class (A440 tuning, octave weighting
    centred at 5 octaves above A0/16 with width 2, columns L2-normalised, rows starting at C).

    Returns
    -------
    np.ndarray, float32, shape (n_chroma, n_fft // 2 + 1)
    """
    sr = float(check_positive("sr", sr))
    n_fft = int(check_positive("n_fft", n_fft))
    n_chroma = int(check_positive("n_chroma", n_chroma))
    freqs = np.linspace(0, sr, n_fft, endpoint=False)[1:]
    frqbins = n_chroma * np.log2(freqs / (440.0 / 16))  # octaves above A0/16, in bins
    frqbins = np.concatenate(([frqbins[0] - 1.5 * n_chroma], frqbins))  # the 0 Hz bin
    binwidth = np.concatenate((np.maximum(frqbins[1:] - frqbins[:-1], 1.0), [1.0]))
    d = frqbins[None, :] - np.arange(n_chroma, dtype=np.float64)[:, None]
    half = np.round(n_chroma / 2.0)
    d = np.remainder(d + half + 10 * n_chroma, n_chroma) - half
    w = np.exp(-0.5 * (2 * d / binwidth[None, :]) ** 2)
    norm = np.sqrt(np.sum(w**2, axis=0, keepdims=True))
    w = w / np.where(norm < np.finfo(np.float64).tiny, 1.0, norm)
    w *= np.exp(-0.5 * ((frqbins / n_chroma - 5.0) / 2.0) ** 2)[None, :]
    w = np.roll(w, -3 * (n_chroma // 12), axis=0)
    return np.ascontiguousarray(w[:, : int(1 + n_fft / 2)], dtype=np.float32)


def _filterbank() -> np.ndarray:
    if "whisper" not in _FB:
        _FB["whisper"] = slaney_mel_filterbank(sr=WHISPER_SR, n_fft=N_FFT, n_mels=N_MELS)
    return _FB["whisper"]


def _hann() -> np.ndarray:
    if N_FFT not in _WINDOW:  # periodic Hann (scipy.signal.get_window("hann", n, fftbins=True))
        n = np.arange(N_FFT)
        _WINDOW[N_FFT] = (0.5 - 0.5 * np.cos(2.0 * np.pi * n / N_FFT)).astype(np.float32)
    return _WINDOW[N_FFT]


def _power_frames(y: np.ndarray) -> np.ndarray:
    """``|STFT|^2`` frame by frame, shape (1 + n // 160, 201), float32 (see
    :func:`power_spectrogram`)."""
    y = np.asarray(y, dtype=np.float32).reshape(-1)
    yp = np.pad(y, (N_FFT // 2, N_FFT // 2))  # librosa >= 0.10: pad_mode="constant"
    n = 1 + (len(yp) - N_FFT) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(yp, N_FFT)[::HOP][:n]
    hann = _hann()
    power = np.empty((n, N_FFT // 2 + 1), np.float32)
    im2 = np.empty((min(n, _CHUNK), power.shape[1]), np.float32)
    # in blocks of frames that stay in the cache (the same per-frame arithmetic as one
    # rfft of all frames; measured 17-26 -> 12-14 ms per minute of speech, under load)
    for a in range(0, n, _CHUNK):
        b = min(a + _CHUNK, n)
        spec = np.fft.rfft(frames[a:b] * hann, axis=1)  # (b - a, 201) complex64
        ri = spec.view(np.float32).reshape(b - a, -1, 2)  # real and imaginary parts
        np.square(ri[..., 0], out=power[a:b])
        power[a:b] += np.square(ri[..., 1], out=im2[: b - a])
    return power


def power_spectrogram(y: np.ndarray) -> np.ndarray:
    """``|STFT|^2`` of a signal: n_fft 400, hop 160, periodic Hann, centred with zero padding.

    Parameters
    ----------
    y : np.ndarray, shape (n,)

    Returns
    -------
    np.ndarray, float32, shape (201, 1 + n // 160)
    """
    return np.ascontiguousarray(_power_frames(y).T)


def whisper_logmel(*, y: np.ndarray, sr: int) -> np.ndarray:
    """Whisper's log-mel spectrogram of a 16 kHz signal (no 30 s padding).

    80 Slaney mel bands of the power STFT (n_fft 400, hop 160, Hann, centred, the
    last frame dropped), ``log10`` clamped to ``max - 8``, then ``(x + 4) / 4``.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono samples in [-1, 1].
    sr : int
        Must be 16000.

    Returns
    -------
    np.ndarray, float32, shape (80, n // 160)
    """
    if int(sr) != WHISPER_SR:
        raise InvalidArgumentError(f"sr={sr!r} must be {WHISPER_SR} (resample first)")
    # the same operations as on power_spectrogram(y)[:, :-1], in place: a cold process pays
    # for every fresh page, and these arrays are megabytes
    m = _filterbank() @ _power_frames(y).T[:, :-1]
    np.maximum(m, 1e-10, out=m)
    np.log10(m, out=m)
    if m.size:
        np.maximum(m, m.max() - 8.0, out=m)
    m += 4.0
    m /= 4.0
    return m.astype(np.float32, copy=False)
