"""The bad inputs of the foundation issue, end to end: a specific error or a correct result,
never a raw traceback, never a half-written output."""

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from talkinghead.audio.features import compute_features
from talkinghead.audio.io import load_audio
from talkinghead.errors import EmptyAudioError, MediaError, TalkingHeadError
from talkinghead.face.tracking import track_video
from talkinghead.inference import animate
from talkinghead.video.io import write_video


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "talkinghead", "-q", *args], capture_output=True, text=True
    )


def test_zero_length_audio_is_a_specific_error(tmp_path):
    p = tmp_path / "empty.wav"
    sf.write(p, np.zeros(0, np.float32), 16000)
    with pytest.raises(EmptyAudioError, match="empty.wav"):
        animate(p)
    res = _cli("animate", str(p), "-o", str(tmp_path / "o.mp4"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert not (tmp_path / "o.mp4").exists()


def test_pure_silence_gives_a_face_at_rest(tmp_path):
    p = tmp_path / "silence.wav"
    sf.write(p, np.zeros(3 * 16000, np.float32), 16000)
    anim = animate(p, fps=25)
    assert anim.n_frames == 75
    # at rest the lips keep the real faces' small opening (mouth v2: their median rest value,
    # ~0.03 of the eye-corner distance; speech averages ~0.07), they do not open wide
    assert np.nanmax(anim.mouth_open) < 0.05
    # the mouth and jaw do not move at all; the eyes still blink and the brows barely drift
    assert np.ptp(anim.landmarks[:, np.r_[0:17, 48:68]], axis=0).max() < 1e-6
    assert anim.blink.max() > 0.9 and anim.brow.max() < 0.5


@pytest.mark.parametrize("sr,channels", [(8000, 1), (96000, 1), (48000, 6)])
def test_any_rate_and_channel_count_animates(tmp_path, example_speech, sr, channels):
    import librosa

    y, _ = load_audio(example_speech, sr=sr)
    data = np.stack([y * (0.5 + 0.1 * c) for c in range(channels)], axis=1)
    p = tmp_path / f"speech_{sr}_{channels}.wav"
    sf.write(p, data, sr)
    anim = animate(p, fps=25)
    ref = animate(example_speech, fps=25)
    assert anim.n_frames == ref.n_frames
    # the same speech gives a mouth that moves the same way
    assert np.corrcoef(anim.mouth_open, ref.mouth_open)[0, 1] > 0.6
    assert librosa is not None


def test_truncated_video_reports_or_decodes_what_is_there(tmp_path, shared_data):
    src = shared_data / "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"
    data = src.read_bytes()
    cut = tmp_path / "cut.mpg"
    cut.write_bytes(data[: len(data) // 3])
    # MPEG-PS carries no frame count: the cut file is a shorter, valid video
    track = track_video(cut)
    assert 0 < track.n_frames < 75 and track.valid.all()
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(data[len(data) // 2 :][:5000])
    with pytest.raises(MediaError):
        track_video(junk)


def test_video_with_no_face_is_flagged_everywhere(tmp_path):
    rng = np.random.default_rng(0)
    frames = (rng.integers(0, 255, (256, 256, 3), dtype=np.uint8) for _ in range(20))
    p = write_video(tmp_path / "noface.mp4", frames, fps=25)
    track = track_video(p)
    assert track.n_frames == 20 and not track.valid.any() and (track.n_faces == 0).all()
    out = tmp_path / "t.npz"
    res = _cli("track", str(p), "-o", str(out))
    assert res.returncode == 0 and "20 without a face" in res.stdout and out.exists()


def test_text_file_named_wav(tmp_path):
    p = tmp_path / "notes.wav"
    p.write_text("not audio\n" * 50)
    with pytest.raises(TalkingHeadError, match="notes.wav"):
        load_audio(p)
    out = tmp_path / "f.npy"
    res = _cli("features", str(p), "--set", "pham2017", "--fps", "25", "-o", str(out))
    assert res.returncode == 2 and res.stderr.startswith("talkinghead: error:")
    assert not out.exists()


def test_hour_long_file_loads_and_featurises(tmp_path):
    sr = 8000
    t = np.arange(3600 * sr) / sr
    y = (0.1 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)).astype(np.float32)
    p = tmp_path / "hour.wav"
    sf.write(p, y, sr, subtype="PCM_16")
    del t, y
    y16, sr16 = load_audio(p, sr=16000)
    assert abs(len(y16) - 3600 * 16000) <= 1
    x = compute_features("eskimez2018", y=y16, sr=sr16, fps=25)
    assert x.shape == (90000, 128) and np.isfinite(x).all()


def test_missing_transcript_file_is_a_clean_error(tmp_path, example_speech):
    res = _cli(
        "animate", str(example_speech), "-o", str(tmp_path / "a.npz"),
        "--transcript-file", str(tmp_path / "nope.txt"),
    )  # fmt: skip
    assert res.returncode == 2 and "--transcript-file=" in res.stderr
