"""The numpy Whisper log-mel front end equals the librosa computation the models were trained on."""

import numpy as np
import pytest

from talkinghead.audio.io import load_audio
from talkinghead.audio.logmel import power_spectrogram, slaney_mel_filterbank, whisper_logmel
from talkinghead.errors import InvalidArgumentError


def test_filterbank_matches_librosa():
    librosa = pytest.importorskip("librosa", reason="librosa gives the known answer")
    for sr, n_fft, n_mels, fmax in [(16000, 400, 80, None), (22050, 1024, 40, 8000.0)]:
        want = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmax=fmax)
        got = slaney_mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmax=fmax)
        assert got.shape == want.shape == (n_mels, n_fft // 2 + 1) and got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-9)


def test_logmel_matches_librosa_on_real_speech(example_speech):
    librosa = pytest.importorskip("librosa", reason="librosa gives the known answer")
    y, sr = load_audio(example_speech, sr=16000)
    spec = librosa.stft(y, n_fft=400, hop_length=160, window="hann", center=True)
    fb = librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)
    m = np.log10(np.maximum(fb @ (np.abs(spec[:, :-1]) ** 2), 1e-10))
    want = (np.maximum(m, m.max() - 8.0) + 4.0) / 4.0
    got = whisper_logmel(y=y, sr=sr)
    assert got.shape == want.shape == (80, len(y) // 160) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-4)
    np.testing.assert_allclose(power_spectrogram(y), np.abs(spec) ** 2, rtol=1e-3, atol=1e-6)


def test_logmel_of_short_and_silent_input_and_bad_rate():
    assert whisper_logmel(y=np.zeros(0, np.float32), sr=16000).shape == (80, 0)
    z = whisper_logmel(y=np.zeros(1600, np.float32), sr=16000)
    assert z.shape == (80, 10) and np.isfinite(z).all()
    with pytest.raises(InvalidArgumentError, match="sr=22050 must be 16000"):
        whisper_logmel(y=np.zeros(1600, np.float32), sr=22050)
    with pytest.raises(InvalidArgumentError, match="fmin="):
        slaney_mel_filterbank(sr=16000, n_fft=400, n_mels=80, fmin=9000.0)


def test_chroma_filterbank_matches_librosa():
    librosa = pytest.importorskip("librosa", reason="librosa gives the known answer")
    from talkinghead.audio.logmel import chroma_filterbank

    for sr, n_fft in [(16000, 2048), (44100, 4096), (16000, 400)]:
        want = librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=0.0)
        got = chroma_filterbank(sr=sr, n_fft=n_fft)
        assert got.shape == want.shape == (12, n_fft // 2 + 1)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
