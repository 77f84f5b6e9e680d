"""The Whisper tiny.en encoder frames: the same audio twice is encoded once (features and
closures of one call share it), and a caller's changes never reach the remembered frames."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ctranslate2")


def test_the_same_audio_is_encoded_once_and_copies_are_independent(example_speech, monkeypatch):
    from talkinghead.audio import whisper as W
    from talkinghead.audio.io import load_audio

    y, _ = load_audio(example_speech, sr=16000)
    y = y[: 3 * 16000]
    calls = []
    real = W._encoder

    def counting():
        enc = real()

        class Counted:
            def encode(self, x):
                calls.append(1)
                return enc.encode(x)

        return Counted()

    monkeypatch.setattr(W, "_encoder", counting)
    monkeypatch.setattr(W, "_LAST", None)
    a = W.encoder_frames(y)
    assert a.shape == (150, 384) and len(calls) == 1
    a[:] = 0  # the caller's copy
    b = W.encoder_frames(y.copy())
    assert len(calls) == 1 and np.abs(b).max() > 0
    c = W.encoder_frames(y[:-1600])  # other audio (0.1 s shorter): encoded again
    assert len(calls) == 2 and c.shape[0] < b.shape[0]
