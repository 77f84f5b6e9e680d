"""Phones from speech: phone recognition and forced alignment with PocketSphinx 5.

Two ways to get a timed phone sequence from audio:

- :func:`recognize_phones` decodes phones with no transcript (PocketSphinx
  "allphone" search with the en-us phone bigram model shipped in the wheel);
  noisy (roughly 30-40 % phone error rate on clean speech) but needs nothing else;
- :func:`align` (and :func:`align_phones`, :func:`align_words`) force-aligns a
  known transcript (PocketSphinx alignment search, then a second sub-word pass
  for phone timings); much more accurate.

Both return a contiguous cover of ``[0, duration]``: consecutive phones share
their boundary, the first starts at 0 and the last ends at the audio duration,
and gaps, pauses and noise are labelled ``"SIL"``. Labels are the 39 ARPAbet
phones of CMUdict without stress marks (:data:`PHONES`) plus ``"SIL"``.

PocketSphinx works on 16 kHz 16-bit audio with 10 ms frames: timings are
multiples of 10 ms (except the final boundary, the audio duration). Audio at
other rates is resampled internally (soxr).

``pocketsphinx`` and ``soxr`` are imported only when these functions run.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import AlignmentError, EmptyAudioError, InvalidArgumentError, check_positive

__all__ = [
    "PHONES",
    "SIL",
    "Phone",
    "Word",
    "AlignmentResult",
    "AlignmentError",
    "recognize_phones",
    "align",
    "align_phones",
    "align_words",
    "normalize_transcript",
    "guess_pronunciation",
    "phones_to_frame_labels",
]

#: Label of silence, pauses and non-speech noise.
SIL = "SIL"

#: The 39 ARPAbet phones (CMUdict, no stress) used by the en-us acoustic model.
PHONES: tuple[str, ...] = (
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY",
    "F", "G", "HH", "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P",
    "R", "S", "SH", "T", "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH",
)  # fmt: skip
_PHONE_SET = frozenset(PHONES)

_SR = 16000  # PocketSphinx en-us model rate
_FRATE = 100  # decoder frames per second (10 ms)

#: Beams for alignment, tried in order. PocketSphinx's default beams (and its
#: fwdflat / bestpath passes) lose the path on utterances longer than a few
#: seconds ("Failed to set up sub-word alignment"); very wide beams with a
#: single forward pass work on a minute of speech in ~0.04 x real time.
_ALIGN_TRIES = (
    dict(beam=1e-120, wbeam=1e-100, pbeam=1e-120, fwdflat=False, bestpath=False),
    dict(beam=1e-200, wbeam=1e-200, pbeam=1e-200, fwdflat=False, bestpath=False),
)

# Silence gate: 10 ms frames whose RMS is below max(_ABS_FLOOR, ref * _REL_FLOOR),
# ref = the 99th percentile frame RMS, count as silent (PocketSphinx hallucinates
# phones, often "S", in digital silence).
_ABS_FLOOR = 10 ** (-66 / 20)
_REL_FLOOR = 10 ** (-50 / 20)


@dataclass(frozen=True)
class Phone:
    """One timed phone.

    Attributes
    ----------
    label : str
        ARPAbet phone without stress (``"AA"``, ``"P"``, ...) or ``"SIL"``.
    start, end : float
        Seconds from the start of the audio, ``start < end``.
    """

    label: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        """``end - start`` in seconds."""
        return self.end - self.start

    @property
    def centre(self) -> float:
        """Mid time ``(start + end) / 2`` in seconds."""
        return 0.5 * (self.start + self.end)


@dataclass(frozen=True)
class Word:
    """One timed word of an aligned transcript.

    Attributes
    ----------
    label : str
        The normalised transcript word (lower case, see :func:`normalize_transcript`).
    start, end : float
        Seconds from the start of the audio.
    pronunciation : tuple of str
        The phones aligned to the word (the dictionary variant the aligner chose).
    in_dictionary : bool
        False if the pronunciation was guessed (:func:`guess_pronunciation`).
    """

    label: str
    start: float
    end: float
    pronunciation: tuple[str, ...] = ()
    in_dictionary: bool = True


@dataclass(frozen=True)
class AlignmentResult:
    """Forced alignment of a transcript.

    Attributes
    ----------
    words : list of Word
        The transcript words in order (pauses are not words).
    phones : list of Phone
        Contiguous cover of ``[0, duration]`` with ``"SIL"`` in pauses.
    duration : float
        Audio duration in seconds.
    """

    words: list[Word]
    phones: list[Phone]
    duration: float


# --------------------------------------------------------------------------- audio


def _prepare(y, sr) -> tuple[np.ndarray, float]:
    """Validate and convert to mono float32 at 16 kHz; return (y16, duration_s)."""
    sr = check_positive("sr", sr)
    if int(sr) != sr:
        raise InvalidArgumentError(f"sr={sr!r} must be an integer sample rate in Hz")
    sr = int(sr)
    y = np.asarray(y)
    if y.dtype.kind not in "fiu":
        raise InvalidArgumentError(f"y.dtype={y.dtype} must be a real numeric array")
    if y.ndim == 2:  # (channels, n) as librosa / load_audio(mono=False)
        y = y.mean(axis=0)
    elif y.ndim != 1:
        raise InvalidArgumentError(f"y.shape={y.shape} must be (n,) or (channels, n)")
    if y.size == 0:
        raise EmptyAudioError("y has 0 samples; expected audio with at least one sample")
    if y.dtype.kind in "iu":
        y = y.astype(np.float64) / float(np.iinfo(y.dtype).max)
    y = np.asarray(y, dtype=np.float32)
    if not np.all(np.isfinite(y)):
        raise InvalidArgumentError("y must hold finite samples (found NaN or inf)")
    duration = y.size / sr
    if sr != _SR:
        try:
            import soxr

            y = soxr.resample(y, sr, _SR, quality="HQ").astype(np.float32)
        except ImportError:  # pragma: no cover - soxr comes with librosa
            from scipy.signal import resample_poly

            g = math.gcd(sr, _SR)
            y = resample_poly(y, _SR // g, sr // g).astype(np.float32)
    return y, duration


def _pcm16(y16: np.ndarray) -> bytes:
    return (np.clip(y16, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def _silent_frames(y16: np.ndarray) -> np.ndarray:
    """Bool per 10 ms frame: True where the audio is (near) silent."""
    hop = _SR // _FRATE
    n = max(1, math.ceil(y16.size / hop))
    pad = np.zeros(n * hop, dtype=np.float64)
    pad[: y16.size] = y16
    rms = np.sqrt(np.mean(pad.reshape(n, hop) ** 2, axis=1))
    ref = float(np.percentile(rms, 99))
    return rms < max(_ABS_FLOOR, ref * _REL_FLOOR)


def _ps():
    try:
        import pocketsphinx
    except ImportError as e:  # pragma: no cover
        from ..errors import DependencyError

        raise DependencyError(
            "pocketsphinx>=5 is needed for phone recognition/alignment: pip install pocketsphinx"
        ) from e
    return pocketsphinx


# --------------------------------------------------------------------------- phones


def _norm_label(name: str) -> str:
    lab = re.sub(r"\d", "", name.strip().upper())
    return lab if lab in _PHONE_SET else SIL


def _cover(segs: list[tuple[str, float, float]], duration: float) -> list[Phone]:
    """Turn (label, start, end) segments into a contiguous cover of [0, duration]."""
    out: list[list] = []

    def push(lab: str, s: float, e: float) -> None:
        if e <= s + 1e-9:
            return
        if out and out[-1][0] == lab == SIL:
            out[-1][2] = e
        else:
            out.append([lab, s, e])

    t = 0.0
    for lab, s, e in sorted(segs, key=lambda x: x[1]):
        s, e = max(s, t), min(e, duration)
        if e <= s:
            continue
        if s > t:
            push(SIL, t, s)
        push(lab, s, e)
        t = e
    if t < duration:
        if out and duration - t < 0.03:
            out[-1][2] = duration  # the decoder drops the last partial frames
        else:
            push(SIL, t, duration)
    if not out:
        out = [[SIL, 0.0, duration]]
    out[-1][2] = duration
    return [Phone(lab, float(s), float(e)) for lab, s, e in out]


def _gate_silence(
    segs: list[tuple[str, float, float]], silent: np.ndarray
) -> list[tuple[str, float, float]]:
    """Relabel as SIL the phones that lie (>= 80 %) in silent frames, and trim the
    silent frames off the edges of phones that border a pause (the decoder often
    stretches the first/last phone of a stretch of speech over the silence)."""
    n = silent.size

    def frame(t: float) -> int:
        return min(max(int(round(t * _FRATE)), 0), n)

    out = []
    for i, (lab, s, e) in enumerate(segs):
        a, b = frame(s), frame(e)
        if lab != SIL and b > a and silent[a:b].mean() >= 0.8:
            lab = SIL
        if lab != SIL:
            if i == 0 or segs[i - 1][0] == SIL or _norm_label(segs[i - 1][0]) == SIL:
                while b - a > 1 and silent[a]:
                    a += 1
                    s = a / _FRATE
            if i == len(segs) - 1 or segs[i + 1][0] == SIL:
                while b - a > 1 and b <= n and silent[b - 1]:
                    b -= 1
                    e = b / _FRATE
        out.append((lab, s, e))
    return out


def _allphone_decoder():
    # A fresh decoder per call: a reused one carries noise and cepstral-mean
    # statistics over from the previous utterance, so results would depend on history.
    ps = _ps()
    return ps.Decoder(
        allphone=ps.get_model_path("en-us/en-us-phone.lm.bin"),
        lm=None,
        loglevel="FATAL",
        lw=2.0,
        beam=1e-20,
        pbeam=1e-20,
        samprate=_SR,
    )


def recognize_phones(*, y: np.ndarray, sr: int) -> list[Phone]:
    """Recognise phones in speech with no transcript (PocketSphinx allphone search).

    Parameters
    ----------
    y : np.ndarray, shape (n,) or (channels, n)
        Audio samples (float in [-1, 1] or integer PCM); channels are averaged.
    sr : int
        Sample rate of ``y`` in Hz (resampled to 16 kHz internally).

    Returns
    -------
    list of Phone
        Contiguous cover of ``[0, n / sr]``; ``"SIL"`` where silent. Silence (or
        audio too short to decode) gives a single ``"SIL"`` phone.

    Raises
    ------
    EmptyAudioError
        ``y`` has no samples.
    InvalidArgumentError
        Bad ``sr`` or non-finite samples.

    Notes
    -----
    About 0.05 x real time on one CPU core. Phone error rates are high (the
    decoder has only a phone bigram model); use :func:`align` when the words are known.
    """
    y16, duration = _prepare(y, sr)
    silent = _silent_frames(y16)
    if silent.all() or y16.size < _SR // 40:
        return [Phone(SIL, 0.0, duration)]
    dec = _allphone_decoder()
    dec.start_utt()
    dec.process_raw(_pcm16(y16), full_utt=True)
    dec.end_utt()
    segs = [
        (_norm_label(s.word), s.start_frame / _FRATE, (s.end_frame + 1) / _FRATE)
        for s in (dec.seg() or [])
    ]
    return _cover(_gate_silence(segs, silent), duration)


# --------------------------------------------------------------------------- transcript

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))


def _number_words(n: int) -> list[str]:
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        t, o = divmod(n, 10)
        return [_TENS[t]] + ([_ONES[o]] if o else [])
    for value, name in _SCALES:
        if n >= value:
            q, r = divmod(n, value)
            return _number_words(q) + [name] + (_number_words(r) if r else [])
    raise AssertionError(n)  # pragma: no cover


def _digits_to_words(tok: str) -> list[str]:
    if len(tok) > 12 or (len(tok) > 1 and tok.startswith("0")):
        return [_ONES[int(c)] for c in tok]  # read digit by digit
    return _number_words(int(tok))


def normalize_transcript(text: str) -> list[str]:
    """Split a transcript into lower-case dictionary-style words.

    Unicode is folded to ASCII, case is lowered, punctuation is dropped (word-internal
    apostrophes are kept: ``"don't"``), hyphens split words, ``&`` and ``%`` become
    ``and`` / ``percent``, and digit runs are spelled out (``"42"`` -> ``forty two``;
    numbers with a leading zero or over 12 digits digit by digit).

    Parameters
    ----------
    text : str

    Returns
    -------
    list of str
        The words, possibly empty.
    """
    if not isinstance(text, str):
        raise InvalidArgumentError(f"transcript={text!r} must be a str")
    t = unicodedata.normalize("NFKD", text.replace("\u2019", "'").replace("\u2018", "'"))
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = "".join(c if c.isascii() else " " for c in t).lower()
    t = t.replace("&", " and ").replace("%", " percent ")
    words: list[str] = []
    for tok in re.findall(r"[a-z]+(?:'[a-z]+)*|\d+", t):
        words.extend(_digits_to_words(tok) if tok.isdigit() else [tok])
    return words


# Crude letter-to-sound rules for words missing from CMUdict (longest match first).
_G2P_RULES: tuple[tuple[str, str], ...] = (
    ("tch", "CH"), ("igh", "AY"), ("sch", "S K"), ("ch", "CH"), ("sh", "SH"), ("th", "TH"),
    ("ph", "F"), ("wh", "W"), ("ck", "K"), ("ng", "NG"), ("qu", "K W"), ("kn", "N"),
    ("wr", "R"), ("gh", ""), ("ee", "IY"), ("ea", "IY"), ("oo", "UW"), ("ou", "AW"),
    ("ow", "OW"), ("oi", "OY"), ("oy", "OY"), ("ai", "EY"), ("ay", "EY"), ("au", "AO"),
    ("aw", "AO"), ("ey", "EY"), ("ie", "IY"), ("er", "ER"), ("ir", "ER"), ("ur", "ER"),
    ("ar", "AA R"), ("or", "AO R"),
    ("a", "AE"), ("b", "B"), ("c", "K"), ("d", "D"), ("e", "EH"), ("f", "F"), ("g", "G"),
    ("h", "HH"), ("i", "IH"), ("j", "JH"), ("k", "K"), ("l", "L"), ("m", "M"), ("n", "N"),
    ("o", "AA"), ("p", "P"), ("q", "K"), ("r", "R"), ("s", "S"), ("t", "T"), ("u", "AH"),
    ("v", "V"), ("w", "W"), ("x", "K S"), ("y", "Y"), ("z", "Z"),
)  # fmt: skip


def guess_pronunciation(word: str) -> tuple[str, ...]:
    """Guess ARPAbet phones for a word that is not in the dictionary.

    Crude English letter-to-sound rules (digraphs first, doubled consonants merged,
    a final silent ``e`` dropped, ``y`` after a consonant read as a vowel). Good
    enough to place lip closures (letters b, m, p) and open vowels for animation,
    not for speech recognition.

    Parameters
    ----------
    word : str
        Lower-case letters (apostrophes are ignored).

    Returns
    -------
    tuple of str
        At least one phone (``("AH",)`` for a word with no letters).
    """
    w = re.sub(r"[^a-z]", "", word.lower())
    if len(w) > 2 and w.endswith("e") and w[-2] not in "aeiouy":
        w = w[:-1]
    out: list[str] = []
    i = 0
    while i < len(w):
        if i > 0 and w[i] == w[i - 1] and w[i] not in "aeiou":
            i += 1  # doubled consonant
            continue
        if w[i] == "y" and i > 0:
            out.append("IY" if i == len(w) - 1 else "IH")
            i += 1
            continue
        for g, ph in _G2P_RULES:
            if w.startswith(g, i):
                out.extend(ph.split())
                i += len(g)
                break
    return tuple(out) or ("AH",)


# --------------------------------------------------------------------------- alignment


def _strip_alt(name: str) -> str:
    return re.sub(r"\(\d+\)$", "", name)


def _try_align(ps, pcm: bytes, words, prons, kw) -> list | None:
    dec = ps.Decoder(lm=None, loglevel="FATAL", samprate=_SR, **kw)
    oov = {w: pron for w, (pron, known) in zip(words, prons, strict=True) if not known}
    for w, pron in oov.items():
        dec.add_word(w, " ".join(pron), update=True)
    try:
        dec.set_align_text(" ".join(words))
        dec.start_utt()
        dec.process_raw(pcm, full_utt=True)
        dec.end_utt()
        hyp = [_strip_alt(s.word) for s in (dec.seg() or [])]
        if [h for h in hyp if not h.startswith(("<", "["))] != list(words):
            return None
        dec.set_alignment()
        dec.start_utt()
        dec.process_raw(pcm, full_utt=True)
        dec.end_utt()
        al = dec.get_alignment()
        if al is None:
            return None
        return [
            (
                _strip_alt(w.name),
                w.start,
                w.duration,
                [(p.name, p.start, p.duration) for p in w],
            )
            for w in al
        ]
    except RuntimeError:
        return None


def align(*, y: np.ndarray, sr: int, transcript: str) -> AlignmentResult:
    """Force-align a transcript to speech: word and phone timings.

    Parameters
    ----------
    y : np.ndarray, shape (n,) or (channels, n)
        Audio samples (float in [-1, 1] or integer PCM); channels are averaged.
    sr : int
        Sample rate of ``y`` in Hz (resampled to 16 kHz internally).
    transcript : str
        What is said. Normalised with :func:`normalize_transcript` (case,
        punctuation, numbers); words missing from CMUdict get a guessed
        pronunciation (:func:`guess_pronunciation`, ``Word.in_dictionary=False``).

    Returns
    -------
    AlignmentResult
        ``words`` (the transcript words in order with times) and ``phones`` (a
        contiguous cover of ``[0, n / sr]`` with ``"SIL"`` in pauses).

    Raises
    ------
    EmptyAudioError
        ``y`` has no samples.
    InvalidArgumentError
        The transcript holds no words, bad ``sr`` or non-finite samples.
    AlignmentError
        The decoder found no alignment (e.g. the transcript does not match the
        audio, or far more words than the audio can hold).
    """
    words = normalize_transcript(transcript)
    if not words:
        raise InvalidArgumentError(
            f"transcript={transcript!r} must contain at least one word (letters or digits)"
        )
    y16, duration = _prepare(y, sr)
    ps = _ps()
    lookup = _dictionary()
    prons = []
    for w in words:
        p = lookup(w)
        prons.append((tuple(p.split()), True) if p else (guess_pronunciation(w), False))
    pcm = _pcm16(y16)
    result = None
    for kw in _ALIGN_TRIES:
        result = _try_align(ps, pcm, words, prons, kw)
        if result is not None:
            break
    if result is None:
        raise AlignmentError(
            f"transcript={transcript[:80]!r} could not be aligned to {duration:.2f} s of audio; "
            "expected a transcript of the words actually spoken"
        )
    out_words: list[Word] = []
    segs: list[tuple[str, float, float]] = []
    wi = 0
    for name, ws, wd, phones in result:
        is_word = not name.startswith(("<", "["))
        if is_word:
            used = tuple(_norm_label(pname) for pname, _, _ in phones) or prons[wi][0]
            end = min((ws + wd) / _FRATE, duration)
            out_words.append(Word(words[wi], ws / _FRATE, end, used, prons[wi][1]))
            wi += 1
        for pname, pstart, pdur in phones:
            lab = _norm_label(pname) if is_word else SIL
            segs.append((lab, pstart / _FRATE, (pstart + pdur) / _FRATE))
    phones = _cover(_gate_silence(segs, _silent_frames(y16)), duration)
    return AlignmentResult(words=out_words, phones=phones, duration=duration)


@lru_cache(maxsize=1)
def _dictionary():
    """Return a CMUdict lookup ``word -> 'PH PH ...' or None`` (loaded once)."""
    ps = _ps()
    dec = ps.Decoder(lm=None, loglevel="FATAL")
    lock = threading.Lock()

    def lookup(word: str) -> str | None:
        with lock:
            return dec.lookup_word(word)

    return lookup


def align_phones(*, y: np.ndarray, sr: int, transcript: str) -> list[Phone]:
    """Force-align a transcript and return its phones; see :func:`align`.

    Returns
    -------
    list of Phone
        Contiguous cover of ``[0, n / sr]`` with ``"SIL"`` in pauses.
    """
    return align(y=y, sr=sr, transcript=transcript).phones


def align_words(*, y: np.ndarray, sr: int, transcript: str) -> list[Word]:
    """Force-align a transcript and return its timed words; see :func:`align`."""
    return align(y=y, sr=sr, transcript=transcript).words


def phones_to_frame_labels(phones: list[Phone], *, n_frames: int, fps: float) -> list[str]:
    """The phone label under each video frame time ``k / fps``.

    Parameters
    ----------
    phones : list of Phone
        Sorted, contiguous phones (as returned here).
    n_frames : int
        Number of frames wanted.
    fps : float
        Frames per second.

    Returns
    -------
    list of str, length n_frames
        ``"SIL"`` for frames past the last phone.
    """
    fps = check_positive("fps", fps)
    if int(n_frames) != n_frames or n_frames < 0:
        raise InvalidArgumentError(f"n_frames={n_frames!r} must be an integer >= 0")
    if not phones:
        return [SIL] * int(n_frames)
    ends = np.array([p.end for p in phones])
    t = np.arange(int(n_frames)) / fps
    idx = np.searchsorted(ends, t, side="right")
    return [phones[i].label if i < len(phones) else SIL for i in idx]
