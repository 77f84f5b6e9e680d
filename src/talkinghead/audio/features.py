"""The papers' acoustic feature sets, one row per video frame at any frame rate.

Every feature function is pure and keyword-only::

    f(*, y, sr, fps, n_frames=None, **options) -> np.ndarray  # float32, (n_frames, D)

- ``y``: mono signal, 1-D float array, nominally in [-1, 1] (librosa / soundfile
  convention); ``sr``: its sampling rate in Hz; ``fps``: the video frame rate
  (22.131, 25, 29.97, 30, 60 ... any positive number).
- Row ``t`` describes the audio around video frame ``t``, which spans the time
  interval ``[t/fps, (t+1)/fps)``. Each function documents exactly which samples
  row ``t`` reads. Sample positions are computed from times (never from an
  integer hop), so the timing does not drift at 29.97 fps; ``floor(x + 0.5)``
  rounds a time ``x`` (in samples) to a sample index.
- ``n_frames`` defaults to :func:`n_frames_for` ``(len(y)/sr, fps)``. When given
  (e.g. the video's frame count) the output has exactly that many rows: samples
  outside the signal are read as zeros (silence), so short audio never fails and
  ``n_frames=0`` gives shape ``(0, D)``.
- Silence gives finite features: every logarithm has a floor.

Feature sets (see :data:`FEATURE_SETS`, :func:`compute_features`, :func:`feature_dim`):

``sakurai2018`` (40 dims)
    Sakurai et al. 2018: HTK-style 12 MFCC + log energy, their deltas and
    delta-deltas, and F0 (Hz) from Praat, ordered ``(c, e, dc, de, ddc, dde, f0)``.
``eskimez2018`` (128 dims; 192 with ``include_static=True``)
    Eskimez et al. 2018: first and second temporal differences of a 64-band
    log-mel spectrogram, computed as in the authors' code.
``pham2017`` (537 dims)
    Pham et al. 2017: three 25 ms windows per frame; in each: 128 log-mel bands
    (dB), 13 MFCC with deltas and delta-deltas, 12 chroma bins.

parselmouth is imported inside the function that needs it; the mel and chroma filterbanks
are librosa's, computed in numpy (:mod:`talkinghead.audio.logmel`, checked against librosa
by the tests), so librosa is not needed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..errors import InvalidArgumentError, check_positive
from .framing import centred_starts, gather_windows, next_pow2, round_index
from .framing import hann as hann_window

__all__ = [
    "FEATURE_SETS",
    "compute_features",
    "praat_f0",
    "eskimez2018",
    "feature_dim",
    "htk_mel_filterbank",
    "n_frames_for",
    "pham2017",
    "sakurai2018",
]

# HTK reads 16-bit integer samples; we scale float samples in [-1, 1] to that range so
# that HTK's floors (1.0 on filterbank magnitudes) mean what they mean in HTK.
_HTK_SCALE = 32768.0
# Chunk size (video frames) for pham2017, bounding memory on long audio.
_PHAM_CHUNK = 64


# ----------------------------------------------------------------------------- helpers


def n_frames_for(duration: float, fps: float) -> int:
    """Number of video frames covering ``duration`` seconds at ``fps``.

    Parameters
    ----------
    duration : float
        Length of the audio in seconds (``len(y) / sr``), >= 0.
    fps : float
        Video frame rate, > 0.

    Returns
    -------
    int
        ``int(round(duration * fps))``.
    """
    fps = check_positive("fps", fps)
    try:
        d = float(duration)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"duration={duration!r} must be a number >= 0") from None
    if not math.isfinite(d) or d < 0:
        raise InvalidArgumentError(f"duration={duration!r} must be a finite number >= 0")
    return int(round(d * fps))


def _check_inputs(y, sr, fps, n_frames) -> tuple[np.ndarray, float, float, int]:
    """Validate the common arguments; return ``(y as float64, sr, fps, n_frames)``."""
    sr = check_positive("sr", sr)
    fps = check_positive("fps", fps)
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise InvalidArgumentError(
            f"y with shape {arr.shape} must be a 1-D mono signal (mix channels down first)"
        )
    if not np.issubdtype(arr.dtype, np.floating):
        raise InvalidArgumentError(
            f"y with dtype {arr.dtype} must be a float array (samples in [-1, 1])"
        )
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise InvalidArgumentError(f"y must be finite; it holds {bad} NaN/inf sample(s)")
    if n_frames is None:
        n = n_frames_for(len(arr) / sr, fps)
    else:
        if isinstance(n_frames, bool) or not isinstance(n_frames, int | np.integer):
            raise InvalidArgumentError(f"n_frames={n_frames!r} must be an integer >= 0 or None")
        n = int(n_frames)
        if n < 0:
            raise InvalidArgumentError(f"n_frames={n_frames!r} must be an integer >= 0 or None")
    return arr, sr, fps, n


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InvalidArgumentError(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


# ----------------------------------------------------------------------------- sakurai2018


def htk_mel_filterbank(*, sr: float, n_fft: int, n_mels: int = 20) -> np.ndarray:
    """HTK's triangular mel filterbank (``HSigP.c: InitFBank``, no low/high pass).

    Mel scale ``1127 ln(1 + f/700)``; ``n_mels`` channel centres equally spaced in mel
    between 0 Hz and Nyquist; FFT bins 1 .. n_fft/2 - 1 are used (HTK skips DC and
    Nyquist); each bin splits its magnitude between the two channels around it.

    Parameters
    ----------
    sr : float
        Sampling rate in Hz.
    n_fft : int
        FFT size.
    n_mels : int
        Number of channels (HTK ``NUMCHANS``).

    Returns
    -------
    np.ndarray, shape (n_mels, n_fft // 2 + 1)
        Weights applied to the magnitude spectrum (``|rfft|``).
    """
    half = n_fft // 2
    k = np.arange(half + 1)  # 0-based bin index; HTK's bin is k + 1
    mel = 1127.0 * np.log1p(k * sr / n_fft / 700.0)
    mhi = 1127.0 * np.log1p(half * sr / n_fft / 700.0)
    cf = np.arange(n_mels + 2) / (n_mels + 1) * mhi  # cf[0] = 0 = mlo, cf[n+1] = mhi
    # loChan: the channel c with cf[c] < mel <= cf[c+1]
    lo_chan = np.searchsorted(cf[1:], mel, side="left")  # number of cf[1..] strictly < mel
    lo_chan = np.minimum(lo_chan, n_mels)
    lo_wt = (cf[lo_chan + 1] - mel) / (cf[lo_chan + 1] - cf[lo_chan])
    w = np.zeros((n_mels + 2, half + 1))
    use = (k >= 1) & (k <= half - 1)
    cols = np.nonzero(use)[0]
    w[lo_chan[cols], cols] += lo_wt[cols]
    w[lo_chan[cols] + 1, cols] += 1.0 - lo_wt[cols]
    return w[1 : n_mels + 1]


def _htk_deltas(x: np.ndarray, window: int = 2) -> np.ndarray:
    """HTK regression deltas along axis 0 with edge replication.

    ``d_t = sum_{k=1..W} k (x_{t+k} - x_{t-k}) / (2 sum_{k=1..W} k^2)``.
    """
    if x.shape[0] == 0 or window == 0:
        return np.zeros_like(x)
    padded = np.pad(x, [(window, window)] + [(0, 0)] * (x.ndim - 1), mode="edge")
    n = x.shape[0]
    out = np.zeros_like(x)
    for k in range(1, window + 1):  # loop over the (tiny) regression window, not frames
        out += k * (padded[window + k : window + k + n] - padded[window - k : window - k + n])
    return out / (2.0 * sum(k * k for k in range(1, window + 1)))


def praat_f0(
    y: np.ndarray, sr: float, times: np.ndarray, f0_floor: float, f0_ceiling: float
) -> np.ndarray:
    """F0 in Hz (0 = unvoiced) at ``times`` from Praat's autocorrelation pitch."""
    out = np.zeros(len(times))
    if len(times) == 0 or len(y) == 0 or not np.any(y):
        return out
    import parselmouth

    time_step = min(0.01, 0.5 * float(np.median(np.diff(times))) if len(times) > 1 else 0.01)
    try:
        snd = parselmouth.Sound(y, sampling_frequency=sr)
        pitch = snd.to_pitch_ac(time_step=time_step, pitch_floor=f0_floor, pitch_ceiling=f0_ceiling)
    except parselmouth.PraatError:  # too short for one analysis window: unvoiced
        return out
    f = np.nan_to_num(pitch.selected_array["frequency"], nan=0.0)
    if len(f) == 0:
        return out
    t1, dt = float(pitch.x1), float(pitch.dx)
    p = (times - t1) / dt  # fractional Praat frame index
    inside = (p >= -0.5) & (p <= len(f) - 0.5)
    i0 = np.clip(np.floor(p).astype(np.int64), 0, len(f) - 1)
    i1 = np.clip(i0 + 1, 0, len(f) - 1)
    w = np.clip(p - i0, 0.0, 1.0)
    nearest = f[np.clip(round_index(p), 0, len(f) - 1)]
    both = (f[i0] > 0) & (f[i1] > 0)
    val = np.where(both, (1.0 - w) * f[i0] + w * f[i1], nearest)
    out[inside] = val[inside]
    return out


def sakurai2018(
    *,
    y: np.ndarray,
    sr: float,
    fps: float,
    n_frames: int | None = None,
    win_length: int | None = None,
    n_mels: int = 20,
    n_mfcc: int = 12,
    preemphasis: float = 0.97,
    lifter: int = 22,
    delta_window: int = 2,
    f0_floor: float = 75.0,
    f0_ceiling: float = 600.0,
) -> np.ndarray:
    """Sakurai et al. 2018 features: HTK MFCC + energy, deltas, delta-deltas, F0.

    Window of row ``t``: ``win_length`` samples (default ``round(sr/30)``, 33.3 ms as in
    the paper) centred on the frame's centre time ``(t + 0.5)/fps``, i.e. samples
    ``[s_t, s_t + win_length)`` with ``s_t = floor((t + 0.5) sr/fps - win_length/2 + 0.5)``
    (zeros outside ``y``). At 60 fps this is the paper's 33.3 ms window with a 16.7 ms
    stride; at any other fps there is still exactly one window per video frame.

    Per window, as HTK's ``MFCC_E`` with default settings except those named here:
    samples scaled to the 16-bit range (x 32768); log energy ``e = ln(max(sum s^2, 1))``
    of the raw window (HTK ``RAWENERGY=T``; no utterance-level ``ENORMALISE``, so rows
    stay local); pre-emphasis ``s[i] - 0.97 s[i-1]`` within the window (``s[0] *= 0.03``);
    symmetric Hamming window; FFT of size next power of 2; magnitude spectrum; 20 HTK
    mel channels (:func:`htk_mel_filterbank`); ``ln(max(m, 1))``; DCT-II
    ``c_i = sqrt(2/M) sum_j m_j cos(pi i (j - 0.5)/M)``, ``i = 1..12``; cepstral
    liftering ``c_i *= 1 + L/2 sin(pi i/L)`` with ``L = lifter`` (HTK default 22;
    ``lifter=0`` disables it).

    Deltas and delta-deltas: HTK regression formula over +-``delta_window`` video frames
    (edge frames replicated); delta-deltas are the deltas of the deltas.

    F0: Praat autocorrelation pitch (parselmouth ``to_pitch_ac``, pitch range
    ``[f0_floor, f0_ceiling]`` Hz, time step ``min(10 ms, 1/(2 fps))``) read at the frame
    centre times, linearly interpolated between two voiced Praat frames, otherwise the
    nearest Praat frame; in **Hz**, 0 for unvoiced (the paper uses SPTK F0 as a raw
    value; scale it with a :class:`~talkinghead.audio.normalize.FeatureNormalizer`).
    Praat's analysis window is 3/f0_floor (40 ms) and its voicing decision uses the
    whole signal (global peak, Viterbi path), so this column is not strictly local.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono float signal in [-1, 1].
    sr, fps : float
        Sampling rate (Hz) and video frame rate (frames/s).
    n_frames : int, optional
        Number of rows; default ``n_frames_for(len(y)/sr, fps)``.
    win_length : int, optional
        Window length in samples; default ``round(sr/30)``.
    n_mels, n_mfcc, preemphasis, lifter, delta_window : see above.
    f0_floor, f0_ceiling : float
        Praat pitch range in Hz.

    Returns
    -------
    np.ndarray, float32, shape (n_frames, 3 * (n_mfcc + 1) + 1)
        40 columns by default: ``c1..c12, e, dc1..dc12, de, ddc1..ddc12, dde, f0``.
    """
    y, sr, fps, n = _check_inputs(y, sr, fps, n_frames)
    n_mels = _check_int("n_mels", n_mels, 1)
    n_mfcc = _check_int("n_mfcc", n_mfcc, 1)
    lifter = _check_int("lifter", lifter, 0)
    delta_window = _check_int("delta_window", delta_window, 0)
    if n_mfcc > n_mels:
        raise InvalidArgumentError(f"n_mfcc={n_mfcc} must be <= n_mels={n_mels}")
    if not 0.0 <= float(preemphasis) < 1.0:
        raise InvalidArgumentError(f"preemphasis={preemphasis!r} must be in [0, 1)")
    f0_floor = check_positive("f0_floor", f0_floor)
    f0_ceiling = check_positive("f0_ceiling", f0_ceiling)
    if f0_ceiling <= f0_floor:
        raise InvalidArgumentError(
            f"f0_ceiling={f0_ceiling!r} must be greater than f0_floor={f0_floor!r}"
        )
    win = int(round(sr / 30.0)) if win_length is None else _check_int("win_length", win_length, 2)
    dim = 3 * (n_mfcc + 1) + 1
    if n == 0:
        return np.zeros((0, dim), dtype=np.float32)

    starts = centred_starts(np.arange(n), sr=sr, fps=fps, win=win)
    frames = gather_windows(y, starts, win) * _HTK_SCALE  # (n, win)

    energy = np.log(np.maximum(np.einsum("ij,ij->i", frames, frames), 1.0))
    k = float(preemphasis)
    pre = frames.copy()
    pre[:, 1:] -= k * frames[:, :-1]
    pre[:, 0] *= 1.0 - k
    pre *= np.hamming(win)
    n_fft = next_pow2(win)
    mag = np.abs(np.fft.rfft(pre, n=n_fft, axis=1))
    fbank = mag @ htk_mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels).T
    logm = np.log(np.maximum(fbank, 1.0))
    i = np.arange(1, n_mfcc + 1)[:, None]
    j = np.arange(1, n_mels + 1)[None, :]
    dct = np.sqrt(2.0 / n_mels) * np.cos(np.pi * i * (j - 0.5) / n_mels)  # (n_mfcc, n_mels)
    cep = logm @ dct.T
    if lifter > 0:
        cep *= 1.0 + lifter / 2.0 * np.sin(np.pi * np.arange(1, n_mfcc + 1) / lifter)

    static = np.concatenate([cep, energy[:, None]], axis=1)  # (n, n_mfcc + 1)
    d1 = _htk_deltas(static, delta_window)
    d2 = _htk_deltas(d1, delta_window)
    f0 = praat_f0(y, sr, (np.arange(n) + 0.5) / fps, f0_floor, f0_ceiling)
    out = np.concatenate([static, d1, d2, f0[:, None]], axis=1)
    return out.astype(np.float32)


# ----------------------------------------------------------------------------- eskimez2018


def eskimez2018(
    *,
    y: np.ndarray,
    sr: float,
    fps: float,
    n_frames: int | None = None,
    n_mels: int = 64,
    win_length: int | None = None,
    include_static: bool = False,
) -> np.ndarray:
    """Eskimez et al. 2018 features: temporal differences of a log-mel spectrogram.

    As in the authors' code (``utils.melSpectra`` and ``generate.py`` of
    eeskimez/Talking-Face-Landmarks-from-Speech): a 40 ms periodic-Hann window with
    ``n_fft = win_length``; magnitude spectrum divided by ``1 + n_fft // 2``; squared;
    ``n_mels`` librosa (Slaney) mel bands from 0 Hz to Nyquist; ``m = ln(1e-16 + mel)``.
    Then ``d1[t] = m[t] - m[t-1]`` and ``d2[t] = m[t] - 2 m[t-1] + m[t-2]``
    (``np.diff`` along time) with the first row of ``d1`` and the first two rows of
    ``d2`` set to zero. The paper feeds only ``[d1, d2]`` to its LSTM.

    Window of row ``t`` (one window per video frame): ``win_length`` samples (default
    ``round(0.04 sr)``) centred on the frame centre ``(t + 0.5)/fps``, i.e. samples
    ``[s_t, s_t + win_length)`` with ``s_t = floor((t + 0.5) sr/fps - win_length/2 + 0.5)``
    (zeros outside ``y``). At 25 fps each window covers its frame exactly. (The authors'
    librosa STFT at a 40 ms hop centres window ``t`` at ``t/fps`` instead, half a frame
    earlier.)

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono float signal in [-1, 1].
    sr, fps : float
        Sampling rate (Hz) and video frame rate (frames/s).
    n_frames : int, optional
        Number of rows; default ``n_frames_for(len(y)/sr, fps)``.
    n_mels : int
        Number of mel bands (64 in the paper).
    win_length : int, optional
        Window length (= n_fft) in samples; default ``round(0.04 * sr)``.
    include_static : bool
        Also return the log-mel spectrogram itself, before the differences.

    Returns
    -------
    np.ndarray, float32, shape (n_frames, 2 * n_mels) or (n_frames, 3 * n_mels)
        ``[d1, d2]`` (128 columns by default), or ``[m, d1, d2]`` (192) when
        ``include_static``.
    """
    y, sr, fps, n = _check_inputs(y, sr, fps, n_frames)
    n_mels = _check_int("n_mels", n_mels, 1)
    win = int(round(0.04 * sr)) if win_length is None else _check_int("win_length", win_length, 2)
    dim = (3 if include_static else 2) * n_mels
    if n == 0:
        return np.zeros((0, dim), dtype=np.float32)
    from .logmel import slaney_mel_filterbank

    starts = centred_starts(np.arange(n), sr=sr, fps=fps, win=win)
    frames = gather_windows(y, starts, win) * hann_window(win)
    mag = np.abs(np.fft.rfft(frames, n=win, axis=1)) / (1 + win // 2)
    mel_fb = slaney_mel_filterbank(sr=sr, n_fft=win, n_mels=n_mels)  # (n_mels, win//2 + 1)
    m = np.log(1e-16 + (mag**2) @ mel_fb.T)  # (n, n_mels)
    d1 = np.zeros_like(m)
    d1[1:] = np.diff(m, n=1, axis=0)
    d2 = np.zeros_like(m)
    if n > 2:
        d2[2:] = np.diff(m, n=2, axis=0)
    parts = [m, d1, d2] if include_static else [d1, d2]
    return np.concatenate(parts, axis=1).astype(np.float32)


# ----------------------------------------------------------------------------- pham2017


def _pham_defaults(sr: float, win_length, hop_length, n_fft, n_fft_chroma):
    win = int(round(0.025 * sr)) if win_length is None else _check_int("win_length", win_length, 2)
    hop = (
        max(1, int(round(512 * sr / 44100.0)))
        if hop_length is None
        else _check_int("hop_length", hop_length, 1)
    )
    nfft = next_pow2(win) if n_fft is None else _check_int("n_fft", n_fft, win)
    if n_fft_chroma is None:
        nfc = max(nfft, 1 << int(round(math.log2(4096 * sr / 44100.0))))
    else:
        nfc = _check_int("n_fft_chroma", n_fft_chroma, win)
    return win, hop, nfft, nfc


def pham2017(
    *,
    y: np.ndarray,
    sr: float,
    fps: float,
    n_frames: int | None = None,
    n_mels: int = 128,
    n_mfcc: int = 13,
    win_length: int | None = None,
    hop_length: int | None = None,
    n_fft: int | None = None,
    n_fft_chroma: int | None = None,
    delta_width: int = 9,
) -> np.ndarray:
    """Pham et al. 2017 features: three 25 ms windows per frame, 179 values each.

    Windows of row ``t``: with ``E_t = floor((t + 1) sr/fps + 0.5)`` the frame's end
    sample (exclusive), window ``j = 0, 1, 2`` reads samples
    ``[E_t - (2 - j) hop - win_length, E_t - (2 - j) hop)`` (zeros outside ``y``): the
    last window ends at the frame's end, the others reach back into the previous frame.
    ``win_length`` defaults to ``round(0.025 sr)`` (25 ms); ``hop_length`` to
    ``round(512 sr / 44100)`` (the paper's 512 samples at 44.1 kHz = 11.6 ms).

    In each window (librosa conventions, periodic Hann window, power spectrum):

    - 128 mel bands: ``librosa.filters.mel(sr, n_fft)`` (Slaney) applied to the power
      spectrum, in dB: ``10 log10(max(mel, 1e-10))`` (``power_to_db`` with ``ref=1``,
      ``top_db=None`` so that rows stay local; silence gives -100 dB);
    - 13 MFCC: orthonormal DCT-II of those dB mel bands (``librosa.feature.mfcc(S=...)``);
    - their deltas and delta-deltas: ``librosa.feature.delta`` (Savitzky-Golay, ``width``
      = ``delta_width`` = 9) computed along the continuous sequence of windows spaced by
      ``hop_length``, i.e. from the MFCC of the windows ending at
      ``E_t + m * hop`` for ``m = -(2 + w) .. w``, ``w = delta_width // 2``;
    - 12 chroma bins: ``librosa.filters.chroma(sr, n_fft_chroma, tuning=0)`` applied to
      the power spectrum of the window zero-padded to ``n_fft_chroma`` and normalised to
      a maximum of 1 (``librosa.feature.chroma_stft(S=..., tuning=0.0)``). ``n_fft`` for
      the mel bands defaults to the next power of 2 >= ``win_length`` (2048 at 44.1 kHz);
      ``n_fft_chroma`` to the power of 2 nearest ``4096 sr / 44100`` (4096 at 44.1 and
      48 kHz, 2048 at 16 and 22.05 kHz), i.e. about 10.8 Hz bins whatever ``sr``, fine
      enough for librosa's chroma filters (the 25 ms window itself resolves ~40 Hz).

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono float signal in [-1, 1].
    sr, fps : float
        Sampling rate (Hz) and video frame rate (frames/s).
    n_frames : int, optional
        Number of rows; default ``n_frames_for(len(y)/sr, fps)``.
    n_mels, n_mfcc : int
        Mel bands (128) and cepstral coefficients (13).
    win_length, hop_length, n_fft, n_fft_chroma, delta_width : int, optional
        See above.

    Returns
    -------
    np.ndarray, float32, shape (n_frames, 3 * (n_mels + 3 * n_mfcc + 12))
        537 columns by default, window-major: for ``j = 0, 1, 2`` the block
        ``[mel_db (128), mfcc (13), delta (13), delta-delta (13), chroma (12)]``.
    """
    y, sr, fps, n = _check_inputs(y, sr, fps, n_frames)
    n_mels = _check_int("n_mels", n_mels, 1)
    n_mfcc = _check_int("n_mfcc", n_mfcc, 1)
    if n_mfcc > n_mels:
        raise InvalidArgumentError(f"n_mfcc={n_mfcc} must be <= n_mels={n_mels}")
    delta_width = _check_int("delta_width", delta_width, 3)
    if delta_width % 2 == 0:
        raise InvalidArgumentError(f"delta_width={delta_width} must be odd")
    win, hop, nfft, nfc = _pham_defaults(sr, win_length, hop_length, n_fft, n_fft_chroma)
    per_window = n_mels + 3 * n_mfcc + 12
    if n == 0:
        return np.zeros((0, 3 * per_window), dtype=np.float32)
    import scipy.fft
    import scipy.signal

    from .logmel import chroma_filterbank, slaney_mel_filterbank

    mel_fb = slaney_mel_filterbank(sr=sr, n_fft=nfft, n_mels=n_mels)  # == librosa's filters
    chroma_fb = chroma_filterbank(sr=sr, n_fft=nfc)
    # librosa.feature.delta is a Savitzky-Golay filter; away from the sequence's edges
    # (always the case here) it is this dot product over `delta_width` windows.
    sg1 = scipy.signal.savgol_coeffs(delta_width, 1, deriv=1, use="dot").astype(np.float32)
    sg2 = scipy.signal.savgol_coeffs(delta_width, 2, deriv=2, use="dot").astype(np.float32)
    w = delta_width // 2
    offsets = np.arange(-(2 + w), w + 1)  # window ends relative to E_t, in hops
    n_win = len(offsets)
    centre = np.arange(w, w + 3)  # the frame's own three windows (offsets -2, -1, 0)
    outer = np.setdiff1d(np.arange(n_win), centre)  # only needed for the deltas
    hann = hann_window(win).astype(np.float32)
    # The mel bands of the centre windows come from their chroma FFT when its bins are a
    # refinement of the mel FFT's (X_nfc[k * nfc/nfft] == X_nfft[k] for win <= nfft).
    step = nfc // nfft if nfc % nfft == 0 else 0
    y32 = y.astype(np.float32)
    ends_all = round_index((np.arange(n) + 1.0) * sr / fps)
    tiny = np.finfo(np.float32).tiny

    def power(starts: np.ndarray, size: int) -> np.ndarray:
        fr = np.zeros((*starts.shape, size), dtype=np.float32)  # zero-padded windows
        np.multiply(gather_windows(y32, starts, win), hann, out=fr[..., :win])
        spec = scipy.fft.rfft(fr, axis=-1).view(np.float32)  # (..., 2 * bins): re, im
        spec *= spec
        return spec[..., 0::2] + spec[..., 1::2]

    out = np.empty((n, 3, per_window), dtype=np.float32)
    for c0 in range(0, n, _PHAM_CHUNK):  # bounded memory; vectorised inside a chunk
        ends = ends_all[c0 : c0 + _PHAM_CHUNK]
        b = len(ends)
        starts = ends[:, None] + offsets[None, :] * hop - win  # (b, n_win)
        pc = power(starts[:, centre], nfc)  # (b, 3, nfc//2 + 1)
        pw = np.empty((b, n_win, nfft // 2 + 1), dtype=np.float32)
        pw[:, outer] = power(starts[:, outer], nfft)
        pw[:, centre] = pc[..., ::step] if step else power(starts[:, centre], nfft)
        # (2-D matmuls: numpy's batched 3-D matmul does not use BLAS's fast path)
        mel = (pw.reshape(-1, pw.shape[-1]) @ mel_fb.T).reshape(b, n_win, n_mels)
        mel_db = 10.0 * np.log10(np.maximum(mel, 1e-10))
        mfcc = scipy.fft.dct(mel_db, type=2, norm="ortho", axis=-1)[..., :n_mfcc]
        # windows centre[j] - w .. centre[j] + w around each of the three windows
        ctx = np.stack([mfcc[:, j - w : j + w + 1] for j in centre], axis=1)
        d1 = np.einsum("bjkc,k->bjc", ctx, sg1)
        d2 = np.einsum("bjkc,k->bjc", ctx, sg2)
        chroma = (pc.reshape(-1, pc.shape[-1]) @ chroma_fb.T).reshape(b, 3, 12)
        cmax = chroma.max(axis=-1, keepdims=True)
        chroma = np.where(cmax > tiny, chroma / np.maximum(cmax, tiny), 0.0)
        out[c0 : c0 + b] = np.concatenate(
            [mel_db[:, centre], mfcc[:, centre], d1, d2, chroma], axis=-1
        )
    return out.reshape(n, 3 * per_window)


# ----------------------------------------------------------------------------- registry

FEATURE_SETS: dict[str, Callable[..., np.ndarray]] = {
    "sakurai2018": sakurai2018,
    "eskimez2018": eskimez2018,
    "pham2017": pham2017,
}


def _check_name(name: str) -> Callable[..., np.ndarray]:
    if name not in FEATURE_SETS:
        raise InvalidArgumentError(f"name={name!r} must be one of {sorted(FEATURE_SETS)}")
    return FEATURE_SETS[name]


def compute_features(
    name: str,
    *,
    y: np.ndarray,
    sr: float,
    fps: float,
    n_frames: int | None = None,
    **kw,
) -> np.ndarray:
    """Compute the feature set ``name`` (a key of :data:`FEATURE_SETS`).

    Parameters
    ----------
    name : str
        ``"sakurai2018"``, ``"eskimez2018"`` or ``"pham2017"``.
    y, sr, fps, n_frames
        As for every feature function.
    **kw
        Options of that feature function (e.g. ``include_static=True``).

    Returns
    -------
    np.ndarray, float32, shape (n_frames, feature_dim(name, **kw))
    """
    return _check_name(name)(y=y, sr=sr, fps=fps, n_frames=n_frames, **kw)


def feature_dim(name: str, **kw) -> int:
    """Number of columns of feature set ``name`` with options ``kw``.

    ``feature_dim("sakurai2018") == 40``, ``feature_dim("eskimez2018") == 128``,
    ``feature_dim("eskimez2018", include_static=True) == 192``,
    ``feature_dim("pham2017") == 537``.
    """
    fn = _check_name(name)
    # n_frames=0 returns before any signal processing or heavy import.
    return int(fn(y=np.zeros(0), sr=16000, fps=25, n_frames=0, **kw).shape[1])
