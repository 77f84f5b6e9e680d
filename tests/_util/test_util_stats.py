"""The numpy.quantile twin of the default path (no numpy.ma import)."""

import subprocess
import sys

import numpy as np
import pytest

from talkinghead._util.stats import quantile
from talkinghead.audio.io import load_audio
from talkinghead.errors import InvalidArgumentError


def test_equals_numpy_quantile_on_real_speech_energy(shared_data):
    y, sr = load_audio(shared_data / "TMElyralab__MuseTalk/data/audio/eng.wav", sr=16000)
    env = np.sqrt(np.convolve(y.astype(np.float64) ** 2, np.ones(640) / 640, mode="valid")[::640])
    for x in (env, env[:1], env[:2], env[:7], -env[:1001]):
        for q in (0.0, 0.05, 0.5, 0.95, 0.99, 1.0):
            assert quantile(x, q) == pytest.approx(float(np.quantile(x, q)), rel=1e-12, abs=0)
    assert np.isnan(quantile(np.r_[env, np.nan], 0.5))


def test_rejects_empty_and_out_of_range():
    with pytest.raises(InvalidArgumentError, match="x.size=0 must"):
        quantile([], 0.5)
    with pytest.raises(InvalidArgumentError, match="q=1.5 must be in"):
        quantile([1.0], 1.5)


def test_does_not_import_numpy_ma():
    code = ("import sys; from talkinghead._util.stats import quantile; quantile([3., 1., 2.], .9)"
            "\nassert 'numpy.ma' not in sys.modules")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True)
