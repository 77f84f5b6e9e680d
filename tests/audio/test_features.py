"""Known-answer and real-data tests of the papers' acoustic feature sets."""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf

from talkinghead.audio.features import (
    FEATURE_SETS,
    compute_features,
    eskimez2018,
    feature_dim,
    htk_mel_filterbank,
    n_frames_for,
    pham2017,
    sakurai2018,
)
from talkinghead.errors import InvalidArgumentError

FPS_VALUES = [22.131, 25, 29.97, 30]
NAMES = ["sakurai2018", "eskimez2018", "pham2017"]
C, A = 0, 9  # librosa chroma bins (base_c=True)


def tone(freq, *, sr, seconds, amp=0.5):
    t = np.arange(int(round(sr * seconds))) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def harmonic_voice(f0, *, sr, seconds, n_harm=12):
    """A glottal-like harmonic series (1/k amplitudes) at ``f0`` Hz."""
    t = np.arange(int(round(sr * seconds))) / sr
    y = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, n_harm + 1))
    return (0.3 * y / np.max(np.abs(y))).astype(np.float32)


def round_half_up(x):
    return int(math.floor(x + 0.5))


# ----------------------------------------------------------------------------- registry


def test_registry_dims_and_names():
    assert sorted(FEATURE_SETS) == sorted(NAMES)
    assert feature_dim("sakurai2018") == 40
    assert feature_dim("eskimez2018") == 128
    assert feature_dim("eskimez2018", include_static=True) == 192
    assert feature_dim("eskimez2018", n_mels=40) == 80
    assert feature_dim("pham2017") == 537
    y = tone(300, sr=16000, seconds=0.5)
    for name, dim in [("sakurai2018", 40), ("eskimez2018", 128), ("pham2017", 537)]:
        x = compute_features(name, y=y, sr=16000, fps=25)
        assert x.shape == (12, dim) and x.dtype == np.float32
    x = compute_features("eskimez2018", y=y, sr=16000, fps=25, include_static=True)
    assert x.shape == (12, 192)


def test_unknown_name_lists_choices():
    with pytest.raises(InvalidArgumentError, match=r"name='x' must be one of \['eskimez2018'"):
        compute_features("x", y=np.zeros(100), sr=16000, fps=25)
    with pytest.raises(InvalidArgumentError, match="name='nope'"):
        feature_dim("nope")


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(y=np.zeros((2, 100))), "1-D mono"),
        (dict(y=np.zeros(100, dtype=np.int16)), "must be a float array"),
        (dict(y=np.array([0.0, np.nan, 0.0])), "must be finite"),
        (dict(y=np.array([0.0, np.inf])), "must be finite"),
        (dict(sr=0), "sr=0 must"),
        (dict(fps=-25), "fps=-25 must"),
        (dict(fps=float("nan")), "fps=nan must"),
        (dict(n_frames=-1), "n_frames=-1 must"),
        (dict(n_frames=2.5), "n_frames=2.5 must"),
    ],
)
@pytest.mark.parametrize("name", NAMES)
def test_input_validation(name, kw, match):
    args = dict(y=np.zeros(1600), sr=16000, fps=25) | kw
    with pytest.raises(InvalidArgumentError, match=match):
        compute_features(name, **args)


def test_n_frames_for():
    assert n_frames_for(3.0, 25) == 75
    assert n_frames_for(duration=1.0, fps=29.97) == 30
    assert n_frames_for(duration=0.0, fps=30) == 0
    assert n_frames_for(duration=60.0, fps=29.97) == 1798
    with pytest.raises(InvalidArgumentError, match="fps=0 must"):
        n_frames_for(1.0, 0)
    with pytest.raises(InvalidArgumentError, match="duration=-1"):
        n_frames_for(-1, 25)


# ----------------------------------------------------------------------------- frame counts


@pytest.mark.parametrize("name", NAMES)
def test_frame_counts_any_fps(name):
    sr = 8000
    rng = np.random.default_rng(0)
    for seconds in (0.01, 0.5, 1.2345, 2.0):
        y = (0.1 * rng.standard_normal(int(sr * seconds))).astype(np.float32)
        for fps in FPS_VALUES:
            want = n_frames_for(len(y) / sr, fps)
            assert want == int(round(len(y) / sr * fps))
            x = compute_features(name, y=y, sr=sr, fps=fps)
            assert x.shape == (want, feature_dim(name)), (seconds, fps)
            assert np.all(np.isfinite(x))
            for n in (0, 1, 3, want + 17, 2 * want + 5):  # shorter/longer than the audio
                x = compute_features(name, y=y, sr=sr, fps=fps, n_frames=n)
                assert x.shape == (n, feature_dim(name))
                assert np.all(np.isfinite(x))


@pytest.mark.parametrize("name", NAMES)
def test_rows_beyond_audio_read_silence_and_prefix_is_stable(name):
    sr, fps = 16000, 29.97
    y = harmonic_voice(150, sr=sr, seconds=1.0)
    x = compute_features(name, y=y, sr=sr, fps=fps)
    longer = compute_features(name, y=y, sr=sr, fps=fps, n_frames=len(x) + 20)
    shorter = compute_features(name, y=y, sr=sr, fps=fps, n_frames=10)
    # rows are local: a prefix does not depend on how many rows are asked for
    # (sakurai's delta-deltas reach 4 rows and replicate the last row: compare away from it)
    np.testing.assert_allclose(shorter[:6], x[:6], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(longer[: len(x) - 4], x[:-4], rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("name", NAMES)
def test_empty_and_tiny_audio(name):
    d = feature_dim(name)
    assert compute_features(name, y=np.zeros(0), sr=16000, fps=25).shape == (0, d)
    assert compute_features(name, y=np.zeros(0), sr=16000, fps=25, n_frames=4).shape == (4, d)
    x = compute_features(name, y=np.full(10, 0.1), sr=16000, fps=25, n_frames=5)
    assert x.shape == (5, d) and np.all(np.isfinite(x))


@pytest.mark.parametrize("name", NAMES)
def test_silence_is_finite(name):
    x = compute_features(name, y=np.zeros(16000, dtype=np.float32), sr=16000, fps=25)
    assert x.shape == (25, feature_dim(name))
    assert np.all(np.isfinite(x))
    # constant rows, all differences zero
    np.testing.assert_array_equal(x, np.broadcast_to(x[0], x.shape))


def test_frame_timing_at_29_97_fps():
    """A click at the centre time of frame k lights up row k exactly, late in a long clip."""
    sr, fps = 8000, 29.97
    y = np.zeros(sr * 40, dtype=np.float32)
    ks = [5, 300, 1000, 1190]
    for k in ks:
        c = round_half_up((k + 0.5) * sr / fps)
        y[c - 8 : c + 8] = 0.9
    s = sakurai2018(y=y, sr=sr, fps=fps)
    e = eskimez2018(y=y, sr=sr, fps=fps, include_static=True)
    p = pham2017(y=y, sr=sr, fps=fps)
    assert len(s) == len(e) == len(p) == n_frames_for(40, fps) == 1199
    energy = s[:, 12]
    loud_mel_e = e[:, :64].mean(axis=1)
    last_window_mel = p[:, 2 * 179 : 2 * 179 + 128].mean(axis=1)
    for k in ks:
        for col in (energy, loud_mel_e, last_window_mel):
            seg = col[k - 2 : k + 3]
            assert np.argmax(seg) == 2, (k, seg)
            assert seg[2] > seg[0] + 1 and seg[2] > seg[4] + 1


# ----------------------------------------------------------------------------- sakurai2018


def htk_mfcc_reference(frame, sr, *, n_chans=20, n_cep=12, k=0.97, lifter=22):
    """Direct transcription of HTK's HSigP.c loops (1-based arrays as in the C code)."""
    s = np.asarray(frame, dtype=np.float64) * 32768.0
    n = len(s)
    energy = math.log(max(float(np.sum(s * s)), 1.0))
    s = s.copy()
    for i in range(n - 1, 0, -1):  # PreEmphasise
        s[i] -= s[i - 1] * k
    s[0] *= 1.0 - k
    s = s * np.array([0.54 - 0.46 * math.cos(2 * math.pi * i / (n - 1)) for i in range(n)])
    fft_n = 2
    while n > fft_n:
        fft_n *= 2
    spec = np.fft.fft(s, fft_n)
    fres = sr / fft_n / 700.0

    def mel(kk):  # HTK Mel(k, fres), k is 1-based
        return 1127.0 * math.log(1.0 + (kk - 1) * fres)

    mhi = mel(fft_n // 2 + 1)
    cf = [0.0] + [c / (n_chans + 1) * mhi for c in range(1, n_chans + 2)]
    klo, khi = 2, fft_n // 2
    lo_chan, lo_wt = {}, {}
    chan = 1
    for kk in range(1, fft_n // 2 + 1):
        melk = mel(kk)
        if kk < klo or kk > khi:
            lo_chan[kk] = -1
            continue
        while chan <= n_chans + 1 and cf[chan] < melk:
            chan += 1
        lo_chan[kk] = chan - 1
    for kk in range(1, fft_n // 2 + 1):
        c = lo_chan[kk]
        if c > 0:
            lo_wt[kk] = (cf[c + 1] - mel(kk)) / (cf[c + 1] - cf[c])
        else:
            lo_wt[kk] = (cf[1] - mel(kk)) / (cf[1] - 0.0)
    fbank = [0.0] * (n_chans + 2)
    for kk in range(klo, khi + 1):
        ek = abs(spec[kk - 1])
        b = lo_chan[kk]
        t1 = lo_wt[kk] * ek
        if b > 0:
            fbank[b] += t1
        if b < n_chans:
            fbank[b + 1] += ek - t1
    logf = [math.log(max(fbank[b], 1.0)) for b in range(1, n_chans + 1)]
    c = []
    for j in range(1, n_cep + 1):
        v = math.sqrt(2.0 / n_chans) * sum(
            logf[b - 1] * math.cos(math.pi / n_chans * j * (b - 0.5)) for b in range(1, n_chans + 1)
        )
        v *= 1.0 + lifter / 2.0 * math.sin(math.pi * j / lifter)
        c.append(v)
    return np.array(c), energy


@pytest.mark.parametrize("sr, fps", [(16000, 60), (44100, 29.97), (22050, 25)])
def test_sakurai_mfcc_matches_htk_definition(example_speech, sr, fps):
    y, sr0 = sf.read(example_speech, dtype="float32")
    if sr != sr0:
        import librosa

        y = librosa.resample(y, orig_sr=sr0, target_sr=sr)
    x = sakurai2018(y=y, sr=sr, fps=fps)
    win = int(round(sr / 30))
    for t in (len(x) // 3, len(x) // 2):
        s = round_half_up((t + 0.5) * sr / fps - win / 2)
        c_ref, e_ref = htk_mfcc_reference(y[s : s + win], sr)
        np.testing.assert_allclose(x[t, :12], c_ref, rtol=1e-4, atol=1e-3)
        assert x[t, 12] == pytest.approx(e_ref, rel=1e-5)


def test_htk_filterbank_is_triangular():
    fb = htk_mel_filterbank(sr=16000, n_fft=512, n_mels=20)
    assert fb.shape == (20, 257)
    assert np.all(fb >= 0) and np.all(fb <= 1)
    # DC and Nyquist bins unused; inner bins split between at most two channels summing to 1
    assert fb[:, 0].sum() == 0 and fb[:, 256].sum() == 0
    assert np.all((fb > 0).sum(axis=0) <= 2)
    # between the first and the last channel centre every bin's weights sum to 1
    mhi = 1127 * math.log(1 + 8000 / 700)
    centres_hz = 700 * (np.exp(np.arange(1, 21) / 21 * mhi / 1127) - 1)
    freqs = np.arange(257) * 16000 / 512
    inner = (freqs >= centres_hz[0]) & (freqs <= centres_hz[-1])
    np.testing.assert_allclose(fb.sum(axis=0)[inner], 1.0)
    # each channel peaks (weight close to 1) at its centre frequency
    peak_hz = freqs[np.argmax(fb, axis=1)]
    assert np.all(np.abs(peak_hz - centres_hz) <= 16000 / 512)


@pytest.mark.parametrize("f0", [120.0, 210.0])
@pytest.mark.parametrize("fps", [25, 29.97, 60])
def test_sakurai_f0_of_harmonic_series(f0, fps):
    sr = 16000
    y = harmonic_voice(f0, sr=sr, seconds=1.5)
    x = sakurai2018(y=y, sr=sr, fps=fps)
    f = x[:, -1]
    voiced = f > 0
    assert voiced[2:-2].all()  # away from the very edges every frame is voiced
    np.testing.assert_allclose(f[voiced], f0, rtol=0.02)


def test_sakurai_f0_unvoiced_is_zero():
    sr = 16000
    rng = np.random.default_rng(1)
    voice = harmonic_voice(150, sr=sr, seconds=1.0)
    silence = np.zeros(sr, dtype=np.float32)
    noise = (0.001 * rng.standard_normal(sr)).astype(np.float32)
    x = sakurai2018(y=np.concatenate([voice, silence, noise]), sr=sr, fps=25)
    f = x[:, -1]
    assert np.all(np.abs(f[3:22] - 150) < 3)
    assert np.all(f[28:] == 0)


def test_sakurai_energy_tracks_loudness():
    sr, fps = 16000, 25
    quiet = harmonic_voice(150, sr=sr, seconds=1.0) * 0.05
    loud = harmonic_voice(150, sr=sr, seconds=1.0) * 0.5
    x = sakurai2018(y=np.concatenate([quiet, loud]), sr=sr, fps=fps)
    e = x[:, 12]
    assert e[30:48].min() > e[2:20].max() + 4.0  # 20 dB louder: ln(100) = 4.6 more
    assert np.median(e[30:48]) - np.median(e[2:20]) == pytest.approx(math.log(100), abs=0.05)
    # the energy delta peaks at the step
    de = x[:, 26]
    assert 23 <= int(np.argmax(de)) <= 26


def test_sakurai_deltas_of_stationary_signal_are_zero():
    sr, fps = 16000, 25  # hop 640 samples = 20 periods of 500 Hz: identical windows
    y = tone(500, sr=sr, seconds=2.0) + 0.5 * tone(1500, sr=sr, seconds=2.0)
    x = sakurai2018(y=y, sr=sr, fps=fps)
    assert np.abs(x[:, 13:39]).max() < 1e-3
    assert np.ptp(x[:, :13], axis=0).max() < 1e-3


def test_sakurai_layout_and_options():
    sr = 16000
    y = harmonic_voice(130, sr=sr, seconds=1.0)
    x = sakurai2018(y=y, sr=sr, fps=30)
    # delta columns are HTK regressions of the static columns, delta-deltas of the deltas
    static, d1, d2 = x[:, :13], x[:, 13:26], x[:, 26:39]
    pad = np.pad(static.astype(np.float64), [(2, 2), (0, 0)], mode="edge")
    ref = (pad[3:-1] - pad[1:-3] + 2 * (pad[4:] - pad[:-4])) / 10.0
    np.testing.assert_allclose(d1, ref, atol=1e-4)
    pad = np.pad(d1.astype(np.float64), [(2, 2), (0, 0)], mode="edge")
    ref2 = (pad[3:-1] - pad[1:-3] + 2 * (pad[4:] - pad[:-4])) / 10.0
    np.testing.assert_allclose(d2, ref2, atol=1e-4)
    # lifter=0 removes the HTK lifter gain 1 + 11 sin(pi i / 22)
    raw = sakurai2018(y=y, sr=sr, fps=30, lifter=0)
    gain = 1 + 11 * np.sin(np.pi * np.arange(1, 13) / 22)
    np.testing.assert_allclose(x[:, :12], raw[:, :12] * gain, rtol=1e-4, atol=1e-3)
    assert sakurai2018(y=y, sr=sr, fps=30, n_mfcc=6).shape == (30, 22)


# ----------------------------------------------------------------------------- eskimez2018


def test_eskimez_matches_authors_formula():
    import librosa

    sr, fps = 44100, 25
    rng = np.random.default_rng(2)
    y = (harmonic_voice(140, sr=sr, seconds=1.0) + 0.01 * rng.standard_normal(sr)).astype(
        np.float32
    )
    x = eskimez2018(y=y, sr=sr, fps=fps, include_static=True)
    assert x.shape == (25, 192)
    win = int(sr * 0.04)  # the authors' int(sr * wsize)
    assert win == round(0.04 * sr) == 1764
    cnst = 1 + int(sr * 0.04) // 2
    rows = np.arange(1, 24)
    starts = [round_half_up((t + 0.5) * sr / fps - win / 2) for t in rows]
    seg = np.stack([y[s : s + win] for s in starts])
    stft = np.abs(
        librosa.stft(seg, n_fft=win, hop_length=win, win_length=win, center=False)[..., 0]
    )
    ref = np.log(1e-16 + librosa.feature.melspectrogram(sr=sr, S=(stft.T / cnst) ** 2, n_mels=64))
    np.testing.assert_allclose(x[rows, :64], ref.T, rtol=1e-4, atol=1e-3)
    m = x[:, :64].astype(np.float64)
    np.testing.assert_allclose(x[1:, 64:128], np.diff(m, axis=0), atol=1e-4)
    np.testing.assert_allclose(x[2:, 128:], np.diff(m, n=2, axis=0), atol=1e-4)
    assert np.all(x[0, 64:] == 0) and np.all(x[1, 128:] == 0)
    # the default drops the static part
    np.testing.assert_array_equal(eskimez2018(y=y, sr=sr, fps=fps), x[:, 64:])


def test_eskimez_differences_of_stationary_signal_are_zero():
    sr, fps = 16000, 25
    y = tone(500, sr=sr, seconds=2.0) + 0.5 * tone(1500, sr=sr, seconds=2.0)
    x = eskimez2018(y=y, sr=sr, fps=fps, include_static=True, n_mels=40)
    assert x.shape == (50, 120)
    assert np.abs(x[:, 40:]).max() < 1e-4
    # the spectral peak sits in the mel band holding 500 Hz
    import librosa

    centres = librosa.mel_frequencies(n_mels=42, fmax=sr / 2)[1:-1]
    assert abs(centres[np.argmax(x[25, :40])] - 500) < 100


# ----------------------------------------------------------------------------- pham2017


@pytest.mark.parametrize("sr", [44100, 16000])
@pytest.mark.parametrize("freq, bin_", [(440.0, A), (261.63, C), (329.63, 4)])
def test_pham_chroma_of_pure_tone(sr, freq, bin_):
    y = tone(freq, sr=sr, seconds=1.0)
    x = pham2017(y=y, sr=sr, fps=30).reshape(30, 3, 179)
    chroma = x[1:, :, 167:179]  # frame 0's first windows straddle the tone's onset at 0
    assert np.all(np.argmax(chroma, axis=-1) == bin_)
    np.testing.assert_allclose(chroma.max(axis=-1), 1.0, rtol=1e-5)


def test_pham_matches_librosa_on_continuous_window_sequence():
    import librosa

    sr, fps = 44100, 30
    rng = np.random.default_rng(3)
    y = (harmonic_voice(180, sr=sr, seconds=1.0) * np.linspace(0.2, 1.0, sr)).astype(np.float32)
    y += (0.003 * rng.standard_normal(sr)).astype(np.float32)
    x = pham2017(y=y, sr=sr, fps=fps).reshape(30, 3, 179)
    win, hop, n_fft = 1102, 512, 2048
    for t in (10, 17):
        end = round_half_up((t + 1) * sr / fps)
        # librosa frames are n_fft long with the win-long Hann centred in them: shift the
        # segment so that its 11 windows end at end + m * hop, m = -6..4
        first = end - 6 * hop - win - (n_fft - win) // 2
        seg = y[first : first + 10 * hop + n_fft]
        power = (
            np.abs(librosa.stft(seg, n_fft=n_fft, hop_length=hop, win_length=win, center=False))
            ** 2
        )
        assert power.shape[1] == 11
        mel_db = librosa.power_to_db(
            librosa.feature.melspectrogram(S=power, sr=sr, n_mels=128), top_db=None
        )
        mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=13)
        d1 = librosa.feature.delta(mfcc, width=9)
        d2 = librosa.feature.delta(mfcc, width=9, order=2)
        first = end - 2 * hop - win - (4096 - win) // 2
        seg_c = y[first : first + 2 * hop + 4096]
        pc = (
            np.abs(librosa.stft(seg_c, n_fft=4096, hop_length=hop, win_length=win, center=False))
            ** 2
        )
        assert pc.shape[1] == 3
        chroma = librosa.feature.chroma_stft(S=pc, sr=sr, n_fft=4096, tuning=0.0)
        for j in range(3):
            got = x[t, j]
            np.testing.assert_allclose(got[:128], mel_db[:, 4 + j], rtol=1e-4, atol=2e-3)
            np.testing.assert_allclose(got[128:141], mfcc[:, 4 + j], rtol=1e-4, atol=5e-3)
            np.testing.assert_allclose(got[141:154], d1[:, 4 + j], rtol=1e-3, atol=5e-3)
            np.testing.assert_allclose(got[154:167], d2[:, 4 + j], rtol=1e-3, atol=5e-3)
            np.testing.assert_allclose(got[167:], chroma[:, j], rtol=1e-4, atol=1e-4)


def test_pham_window_placement():
    """Window 2 ends at the frame end; windows 0 and 1 reach back by 2 and 1 hops."""
    sr, fps = 44100, 30
    y = np.zeros(sr, dtype=np.float32)
    t = 12
    end = round_half_up((t + 1) * sr / fps)
    y[end - 5 : end] = 0.9  # a click in the last 5 samples of frame t
    x = pham2017(y=y, sr=sr, fps=fps).reshape(30, 3, 179)
    loud = x[:, :, :128].mean(axis=-1) > -90  # mel dB above the -100 dB silence floor
    assert loud[t].tolist() == [False, False, True]
    # frame t+1's windows end 1470, 958 and 446 samples after the click; the last one
    # starts 1470 - 1102 = 368 samples after it
    assert loud[t + 1].tolist() == [True, True, False]
    assert not loud[t + 2].any()
    assert not loud[:t].any()


def test_pham_deltas_of_stationary_signal_are_zero():
    sr, fps = 16000, 25  # 500 Hz period 32 samples; frame hop 640 and hop_length 192: k*32
    y = tone(500, sr=sr, seconds=2.0) + 0.5 * tone(1500, sr=sr, seconds=2.0)
    x = pham2017(y=y, sr=sr, fps=fps, hop_length=192).reshape(50, 3, 179)
    inner = x[2:-2]
    assert np.abs(inner[:, :, 141:167]).max() < 1e-3
    np.testing.assert_allclose(inner, np.broadcast_to(inner[0], inner.shape), atol=1e-3)


# ----------------------------------------------------------------------------- real speech


@pytest.mark.parametrize("fps", [25, 29.97])
def test_all_sets_on_example_speech(example_speech, fps):
    y, sr = sf.read(example_speech, dtype="float32")
    assert sr == 22050
    n = n_frames_for(len(y) / sr, fps)
    s = sakurai2018(y=y, sr=sr, fps=fps)
    e = eskimez2018(y=y, sr=sr, fps=fps, include_static=True)
    p = pham2017(y=y, sr=sr, fps=fps)
    assert s.shape == (n, 40) and e.shape == (n, 192) and p.shape == (n, 537)
    for x in (s, e, p):
        assert np.all(np.isfinite(x))
    f0 = s[:, -1]
    voiced = f0 > 0
    assert 0.3 < voiced.mean() < 0.95
    assert 70 < np.median(f0[voiced]) < 250  # espeak-ng's default male voice
    # energy is higher in voiced frames than in unvoiced ones
    assert np.median(s[voiced, 12]) > np.median(s[~voiced, 12])
    # the three sets agree on where the loud frames are
    rms = np.array(
        [np.sqrt(np.mean(y[int(t * sr / fps) : int((t + 1) * sr / fps)] ** 2)) for t in range(n)]
    )
    for col in (s[:, 12], e[:, :64].mean(axis=1), p[:, 358:486].mean(axis=1)):
        assert np.corrcoef(col, np.log(rms + 1e-5))[0, 1] > 0.7


def test_all_sets_on_real_recordings(shared_data):
    path = shared_data / "Jakobovski__free-spoken-digit-dataset/recordings/0_george_0.wav"
    y, sr = sf.read(path, dtype="float32")
    assert sr == 8000
    for name in NAMES:
        x = compute_features(name, y=y, sr=sr, fps=30)
        assert x.shape == (n_frames_for(len(y) / sr, 30), feature_dim(name))
        assert np.all(np.isfinite(x))
    path = shared_data / "TMElyralab__MuseTalk/data/audio/eng.wav"
    y, sr = sf.read(path, dtype="float32", frames=16000 * 6)
    s = sakurai2018(y=y, sr=sr, fps=29.97)
    assert s.shape == (180, 40)
    f0 = s[:, -1]
    assert 0.3 < (f0 > 0).mean() < 0.95
    assert 70 < np.median(f0[f0 > 0]) < 350
    p = pham2017(y=y, sr=sr, fps=29.97)
    e = eskimez2018(y=y, sr=sr, fps=29.97)
    assert p.shape == (180, 537) and e.shape == (180, 128)
    assert np.all(np.isfinite(p)) and np.all(np.isfinite(e))
