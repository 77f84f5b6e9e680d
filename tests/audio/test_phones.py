"""Phone recognition and forced alignment (PocketSphinx) on real speech."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.audio.io import load_audio
from talkinghead.audio.phones import (
    PHONES,
    SIL,
    AlignmentResult,
    Phone,
    align,
    align_phones,
    align_words,
    guess_pronunciation,
    normalize_transcript,
    phones_to_frame_labels,
    recognize_phones,
)
from talkinghead.errors import EmptyAudioError, InvalidArgumentError

TRANSCRIPT = (
    "Hello there. My name is Pat, and I can talk. "
    "Maybe we can build a better talking face, one word at a time."
)
GRID_CLIP = "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"
VALID = set(PHONES) | {SIL}


@pytest.fixture(scope="module")
def speech(example_speech):
    return load_audio(example_speech, sr=None)  # espeak-ng, 22.05 kHz


@pytest.fixture(scope="module")
def aligned(speech) -> AlignmentResult:
    y, sr = speech
    return align(y=y, sr=sr, transcript=TRANSCRIPT)


def _assert_cover(phones: list[Phone], duration: float) -> None:
    assert phones[0].start == 0.0
    assert phones[-1].end == pytest.approx(duration, abs=1e-9)
    for a, b in zip(phones, phones[1:], strict=False):
        assert a.end == pytest.approx(b.start, abs=1e-9)
    assert all(p.end > p.start for p in phones)
    assert {p.label for p in phones} <= VALID
    # silences are merged: never two SIL in a row
    assert not any(a.label == b.label == SIL for a, b in zip(phones, phones[1:], strict=False))


def test_alignment_finds_the_words_in_order(aligned, speech):
    y, sr = speech
    duration = len(y) / sr
    words = aligned.words
    assert [w.label for w in words] == normalize_transcript(TRANSCRIPT)
    assert aligned.duration == pytest.approx(duration)
    for a, b in zip(words, words[1:], strict=False):
        assert a.start < a.end <= b.start + 1e-9
    assert 0.0 <= words[0].start < 0.3  # espeak starts speaking at once
    assert duration - 1.0 < words[-1].end <= duration
    by = {w.label: w for w in words}
    assert by["pat"].start >= by["name"].end
    # the two long pauses of the recording (after "there" and after "talk")
    assert by["my"].start - by["there"].end > 0.3
    assert by["maybe"].start - by["talk"].end > 0.4
    assert all(w.in_dictionary for w in words)


def test_aligned_phones_cover_audio_and_match_pronunciations(aligned):
    _assert_cover(aligned.phones, aligned.duration)
    spoken = [p.label for p in aligned.phones if p.label != SIL]
    assert spoken == [ph for w in aligned.words for ph in w.pronunciation]
    assert aligned.words[5].label == "pat"
    assert aligned.words[5].pronunciation == ("P", "AE", "T")
    # each word's phones lie inside the word
    for w in aligned.words:
        inside = [p for p in aligned.phones if w.start - 1e-9 <= p.start < w.end]
        assert [p.label for p in inside if p.label != SIL] == list(w.pronunciation)


def test_align_phones_and_words_wrappers(speech, aligned):
    y, sr = speech
    ph = align_phones(y=y, sr=sr, transcript=TRANSCRIPT)
    assert [p.label for p in ph] == [p.label for p in aligned.phones]
    words = align_words(y=y, sr=sr, transcript=TRANSCRIPT.upper())
    assert [w.label for w in words] == [w.label for w in aligned.words]


def test_alignment_at_16k_matches_native_rate(example_speech, aligned):
    y16, sr16 = load_audio(example_speech, sr=16000)
    res = align(y=y16, sr=sr16, transcript=TRANSCRIPT)
    starts = np.array([w.start for w in res.words])
    ref = np.array([w.start for w in aligned.words])
    assert np.max(np.abs(starts - ref)) <= 0.05


def test_recognized_phones_cover_with_silence_at_the_ends(speech, aligned):
    y, sr = speech
    phones = recognize_phones(y=y, sr=sr)
    duration = len(y) / sr
    _assert_cover(phones, duration)
    assert phones[0].label == SIL and phones[-1].label == SIL
    assert sum(p.label != SIL for p in phones) >= 40  # ~70 phones are spoken
    # frame-level agreement with the forced alignment (measured 0.64; chance ~0.1)
    n = int(duration * 100)
    rec = phones_to_frame_labels(phones, n_frames=n, fps=100)
    ali = phones_to_frame_labels(aligned.phones, n_frames=n, fps=100)
    assert np.mean([a == b for a, b in zip(rec, ali, strict=True)]) > 0.45


def test_silence_gives_a_single_sil():
    for y in (np.zeros(32000, np.float32), 1e-5 * np.random.default_rng(0).standard_normal(32000)):
        assert recognize_phones(y=y, sr=16000) == [Phone(SIL, 0.0, 2.0)]
    assert recognize_phones(y=np.zeros(100), sr=8000) == [Phone(SIL, 0.0, 100 / 8000)]


def test_stereo_and_int16_input(speech):
    y, sr = speech
    seg = y[: sr * 2]
    mono = recognize_phones(y=seg, sr=sr)
    stereo = recognize_phones(y=np.stack([seg, seg]), sr=sr)
    assert [p.label for p in stereo] == [p.label for p in mono]
    pcm = (seg * 32767).astype(np.int16)
    assert recognize_phones(y=pcm, sr=sr)[-1].end == pytest.approx(2.0)


def test_errors():
    with pytest.raises(EmptyAudioError):
        recognize_phones(y=np.zeros(0), sr=16000)
    with pytest.raises(EmptyAudioError):
        align(y=np.zeros(0), sr=16000, transcript="hello")
    for bad in ("", "  ", "?!, ..."):
        with pytest.raises(InvalidArgumentError, match="transcript"):
            align(y=np.zeros(1600), sr=16000, transcript=bad)
    with pytest.raises(InvalidArgumentError, match="sr"):
        recognize_phones(y=np.zeros(100), sr=0)
    with pytest.raises(InvalidArgumentError, match="finite"):
        recognize_phones(y=np.full(100, np.nan), sr=16000)
    with pytest.raises(InvalidArgumentError, match="shape"):
        recognize_phones(y=np.zeros((2, 2, 2)), sr=16000)


def test_normalize_transcript():
    assert normalize_transcript("Hello, World!") == ["hello", "world"]
    assert normalize_transcript("Don\u2019t  stop-now") == ["don't", "stop", "now"]
    assert normalize_transcript("It's 42% & 007") == [
        "it's", "forty", "two", "percent", "and", "zero", "zero", "seven",
    ]  # fmt: skip
    assert normalize_transcript("na\u00efve caf\u00e9\u2014ok") == ["naive", "cafe", "ok"]
    assert normalize_transcript("1200") == ["one", "thousand", "two", "hundred"]
    assert normalize_transcript("...") == []


def test_guess_pronunciation():
    assert guess_pronunciation("zorblax") == ("Z", "AO", "R", "B", "L", "AE", "K", "S")
    assert guess_pronunciation("shoop") == ("SH", "UW", "P")
    assert guess_pronunciation("mippy") == ("M", "IH", "P", "IY")
    assert set(guess_pronunciation("qwxyzthing")) <= set(PHONES)


def test_out_of_dictionary_word_is_aligned(speech):
    y, sr = speech
    res = align(y=y, sr=sr, transcript=TRANSCRIPT.replace("Pat", "Zorblax"))
    w = res.words[5]
    assert w.label == "zorblax" and not w.in_dictionary
    assert w.pronunciation[0] == "Z" and "B" in w.pronunciation
    assert res.words[4].end <= w.start < w.end <= res.words[6].start + 1e-9


def test_phones_to_frame_labels():
    phones = [Phone(SIL, 0.0, 0.1), Phone("AA", 0.1, 0.25), Phone(SIL, 0.25, 0.3)]
    assert phones_to_frame_labels(phones, n_frames=5, fps=10) == [SIL, "AA", "AA", SIL, SIL]
    assert phones_to_frame_labels([], n_frames=2, fps=25) == [SIL, SIL]


def test_grid_clip_alignment(shared_data):
    y, sr = load_audio(shared_data / GRID_CLIP, sr=16000)
    res = align(y=y, sr=sr, transcript="bin blue at f two now")
    assert [w.label for w in res.words] == ["bin", "blue", "at", "f", "two", "now"]
    _assert_cover(res.phones, len(y) / sr)
    # the speech region from the energy envelope (20 ms frames, within 30 dB of the peak)
    hop = sr // 50
    rms = np.sqrt(np.mean(y[: len(y) // hop * hop].reshape(-1, hop) ** 2, axis=1))
    loud = np.flatnonzero(rms > rms.max() * 10 ** (-30 / 20))
    t0, t1 = loud[0] * hop / sr, (loud[-1] + 1) * hop / sr
    assert t0 - 0.1 <= res.words[0].start and res.words[-1].end <= t1 + 0.1
    assert res.words[0].start > 0.5  # GRID clips start with ~0.9 s of silence
    assert res.phones[0].label == SIL and res.phones[-1].label == SIL
    assert [p.label for p in res.phones if p.label != SIL][:3] == ["B", "IH", "N"]
