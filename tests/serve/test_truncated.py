"""The offline mouth v2 with its future cut (streaming.truncated, docs/streaming.md)."""

import numpy as np
import pytest

from talkinghead.errors import InvalidArgumentError


@pytest.fixture(scope="module")
def setup(example_speech):
    from talkinghead.audio.io import load_audio
    from talkinghead.models.mouth import MouthModel

    y = load_audio(example_speech, sr=16000)[0][:32000].astype(np.float32)  # 2 s
    return MouthModel.from_pretrained(), y


def test_a_long_lookahead_is_the_offline_model(setup):
    from talkinghead.streaming.truncated import truncated_dofs

    m, y = setup
    off = m.predict_dofs(m.frontend_frames(y))
    z = truncated_dofs(m, y, 120, stats="clip")
    assert z.shape == off.shape
    np.testing.assert_allclose(z, off, atol=1e-4)


def test_causal_rows_are_the_offline_model_on_the_prefix(setup):
    """Row i == the offline model run on the prefix y[:320 (i + L) + 520] alone (its mel
    clamped with the running maximum), and audio after the prefix does not change it."""
    from talkinghead.audio.logmel import _filterbank, power_spectrogram
    from talkinghead.streaming.truncated import truncated_dofs

    m, y = setup
    L = 4
    z = truncated_dofs(m, y, L, stats="causal")
    y2 = y.copy()
    n_last = 320 * (60 + L) + 520
    y2[n_last:] = np.random.default_rng(0).normal(0, 0.3, len(y) - n_last)
    z2 = truncated_dofs(m, y2, L, stats="causal")
    np.testing.assert_allclose(z2[:61], z[:61], atol=1e-6)
    assert np.abs(z2[61 + L + 20 :] - z[61 + L + 20 :]).max() > 1e-2
    for i in (3, 41, 60):
        pref = y[: 320 * (i + L) + 520]
        raw = np.log10(np.maximum(_filterbank() @ power_spectrogram(pref)[:, :-1], 1e-10))
        mx = np.maximum.accumulate(raw.max(0))
        mel = (np.maximum(raw, mx - 8.0) + 4.0) / 4.0
        feats, aux = m.student.encode(mel, with_aux=True)
        ref = m.predict_dofs(m.with_prior(np.concatenate([feats, aux], axis=1)))
        assert len(ref) == i + L + 1
        np.testing.assert_allclose(z[i], ref[i], atol=1e-4)


def test_bad_arguments(setup):
    from talkinghead.streaming.truncated import truncated_dofs

    m, y = setup
    with pytest.raises(InvalidArgumentError, match="stats="):
        truncated_dofs(m, y, 4, stats="oracle")
    with pytest.raises(InvalidArgumentError, match="lookahead="):
        truncated_dofs(m, y, -1)


def test_the_truncated_system_animates_a_clip(example_speech):
    """``trunc_<L>_<stats>``: the held-out evaluation's module:function form."""
    import soundfile as sf

    from talkinghead.streaming import truncated

    y, sr = sf.read(example_speech, dtype="float32")
    y = y[: 2 * sr]
    r = truncated.trunc_80_causal(y=y, sr=sr, fps=25.0, n_frames=50)
    assert r.landmarks.shape == (50, 68, 2) and r.mouth_open.shape == (50,)
    assert r.mouth_open.max() - r.mouth_open.min() > 0.02  # the mouth moves with the speech
    with pytest.raises(AttributeError):
        truncated.nothing_here  # noqa: B018
