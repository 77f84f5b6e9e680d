"""Tests for talkinghead.audio.io: real files of every kind, synthetic rates/layouts, errors."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from talkinghead.audio.io import AudioInfo, audio_info, iter_audio_blocks, load_audio
from talkinghead.errors import (
    AudioDecodeError,
    EmptyAudioError,
    InvalidArgumentError,
    MediaError,
    NoAudioStreamError,
)

MP3 = "lhotse-speech__lhotse/test/fixtures/common_voice_en_651325.mp3"  # 48 kHz, 2.376 s
M4A = "ali-vilab__dreamtalk/data/audio/acknowledgement_english.m4a"  # 48 kHz AAC
FLAC = "lhotse-speech__lhotse/test/fixtures/mix_cut_test/audio/storage/2412-153948-0000.flac"
FLV = "Strong-AI-Lab__emotion/tests/test_data/data/1001_DFA_ANG_XX.flv"  # mp3 in FLV, 2.235 s
MPG = "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"  # mp2 in MPEG-PS, 3 s
MP4 = "grid_s1/video/bbaf2n.mp4"  # AAC 44.1 kHz stereo in MP4, 3 s
LONG_MP4 = "tanshuai0219__EDTalk/test_data/pose_source2.mp4"  # 60 s AAC 48 kHz stereo
FSDD = "Jakobovski__free-spoken-digit-dataset/recordings/0_george_0.wav"  # 8 kHz
NO_AUDIO = "tanshuai0219__EDTalk/test_data/expression_source.mp4"


def _dominant_hz(y: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.fft.rfftfreq(len(y), 1.0 / sr)[np.argmax(spec)])


def _tone(hz: float, sr: int, n: int, amp: float = 0.5) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * hz * np.arange(n) / sr)).astype(np.float32)


# ------------------------------------------------------------------ real files


@pytest.mark.parametrize(
    ("rel", "seconds", "tol"),
    [
        (MP3, 2.376, 0.002),
        (M4A, 16.575, 0.05),
        (FLAC, 11.66, 0.001),
        (FLV, 2.235, 0.001),  # mp3 padding trimmed to the container's duration
        (MPG, 2.978, 0.03),
        (MP4, 2.978, 0.001),  # AAC padding trimmed to the stream's duration (131330 samples)
    ],
)
def test_load_real_files_at_16k(shared_data, rel, seconds, tol):
    y, sr = load_audio(shared_data / rel)
    assert sr == 16000
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) / sr - seconds) <= tol
    assert np.all(np.isfinite(y))
    assert 0.01 < np.sqrt(np.mean(y**2)) and np.abs(y).max() <= 1.05  # real speech, not silence


def test_exact_lengths_and_native_rate(shared_data):
    # flac at its native 16 kHz: bit-exact with soundfile
    y, sr = load_audio(shared_data / FLAC)
    ref, ref_sr = sf.read(shared_data / FLAC, dtype="float32")
    assert sr == ref_sr == 16000 and np.array_equal(y, ref)
    # mp3 48 kHz -> 16 kHz: 114048 decoded samples -> exactly a third
    assert len(load_audio(shared_data / MP3)[0]) == 114048 // 3
    # sr=None keeps 48 kHz
    y48, sr48 = load_audio(shared_data / MP3, sr=None)
    assert sr48 == 48000 and len(y48) == 114048
    # AAC in MP4: padding trimmed to the stated 131330 samples
    y44, sr44 = load_audio(shared_data / MP4, sr=None, mono=False)
    assert sr44 == 44100 and y44.shape == (2, 131330)


def test_8k_to_16k(shared_data, tmp_path):
    y8, sr8 = sf.read(shared_data / FSDD, dtype="float32")
    assert sr8 == 8000
    y, sr = load_audio(shared_data / FSDD, sr=16000)
    assert sr == 16000 and len(y) == 2 * len(y8)
    # a synthetic 8 kHz tone keeps its pitch and level
    path = tmp_path / "tone8k.wav"
    sf.write(path, _tone(440.0, 8000, 8000), 8000)
    y, _ = load_audio(path, sr=16000)
    assert len(y) == 16000
    assert _dominant_hz(y, 16000) == pytest.approx(440.0, abs=1.0)
    assert np.abs(y[1000:-1000]).max() == pytest.approx(0.5, abs=0.01)


def test_96k_six_channels(tmp_path):
    sr0, n = 96000, 96000
    x = np.stack([_tone(300.0 * (i + 1), sr0, n, amp=0.3) for i in range(6)], axis=1)
    path = tmp_path / "six.wav"
    sf.write(path, x, sr0, subtype="PCM_24")
    info = audio_info(path)
    assert (info.sr, info.channels, info.n_samples) == (96000, 6, 96000)
    assert info.duration == pytest.approx(1.0)
    y, sr = load_audio(path, sr=16000)
    assert sr == 16000 and y.shape == (16000,)
    # mono is the channel mean: the 300 Hz channel shows at 0.3 / 6
    ref = np.mean(x, axis=1)[::6]
    assert np.abs(y[2000:-2000] - ref[2000:-2000]).max() < 0.01
    ym, _ = load_audio(path, sr=16000, mono=False)
    assert ym.shape == (6, 16000)
    assert [round(_dominant_hz(c, 16000)) for c in ym] == [300, 600, 900, 1200, 1500, 1800]


def test_44k_stereo_ogg(tmp_path):
    sr0, n = 44100, 44100 * 2
    x = np.stack([_tone(440.0, sr0, n), _tone(1000.0, sr0, n)], axis=1)
    path = tmp_path / "stereo.ogg"
    sf.write(path, x, sr0, format="OGG", subtype="VORBIS")
    assert audio_info(path).codec == "vorbis"
    y, sr = load_audio(path, sr=16000, mono=False)
    assert sr == 16000 and y.shape == (2, 32000)
    assert _dominant_hz(y[0], sr) == pytest.approx(440.0, abs=1.0)
    assert _dominant_hz(y[1], sr) == pytest.approx(1000.0, abs=1.0)


def test_pyav_path_matches_soundfile_path(tmp_path):
    """A wav under a name soundfile does not claim is decoded by FFmpeg: same samples."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((22050, 2)) * 0.2).clip(-1, 1)
    wav = tmp_path / "a.wav"
    sf.write(wav, x, 22050, subtype="PCM_16")
    other = tmp_path / "a.audio"
    shutil.copy(wav, other)
    for kwargs in ({"sr": None, "mono": False}, {"sr": 16000}, {"sr": None, "offset": 0.25}):
        a, sra = load_audio(wav, **kwargs)
        b, srb = load_audio(other, **kwargs)
        assert sra == srb and a.shape == b.shape
        assert np.abs(a - b).max() < 1e-6
    assert audio_info(other).codec == "pcm_s16le"


def test_audio_info_real(shared_data):
    info = audio_info(shared_data / LONG_MP4)
    assert isinstance(info, AudioInfo)
    assert (info.sr, info.channels, info.codec) == (48000, 2, "aac")
    assert info.duration == pytest.approx(59.96, abs=0.01)
    assert audio_info(shared_data / MP3).codec == "mp3"
    assert audio_info(shared_data / FLAC).codec == "flac"


# ------------------------------------------------------------------ blocks, offset


@pytest.mark.parametrize(("rel", "mono"), [(M4A, True), (MP4, False), (FSDD, True)])
def test_blocks_equal_load_audio(shared_data, rel, mono):
    y, sr = load_audio(shared_data / rel, sr=16000, mono=mono)
    blocks = list(iter_audio_blocks(shared_data / rel, sr=16000, block_duration=0.5, mono=mono))
    assert all(b.dtype == np.float32 for b in blocks)
    assert all(b.shape[-1] == 8000 for b in blocks[:-1]) and 0 < blocks[-1].shape[-1] <= 8000
    assert np.array_equal(np.concatenate(blocks, axis=-1), y)


def test_blocks_of_synthetic_96k(tmp_path):
    path = tmp_path / "six.wav"
    sf.write(path, np.zeros((9600, 6)) + 0.1, 96000)
    blocks = list(iter_audio_blocks(path, sr=16000, block_duration=0.03))
    assert [len(b) for b in blocks] == [480, 480, 480, 160]
    assert np.array_equal(np.concatenate(blocks), load_audio(path)[0])


def test_offset_and_duration(shared_data):
    full, _ = load_audio(shared_data / FLAC, sr=None)
    part, _ = load_audio(shared_data / FLAC, sr=None, offset=2.5, duration=1.0)
    assert np.array_equal(part, full[40000:56000])


def test_offset_seek_in_long_aac(shared_data):
    """Offsets of 10 s and more seek; the result equals the slice of the whole decode."""
    path = shared_data / LONG_MP4
    full, sr = load_audio(path, sr=None)
    part, _ = load_audio(path, sr=None, offset=30.0, duration=1.0)
    assert len(part) == sr
    ref = full[30 * sr : 31 * sr]
    # AAC noise substitution depends on the decoder's history: tiny differences only
    assert np.abs(part - ref).max() < 1e-2
    assert np.corrcoef(part, ref)[0, 1] > 0.9999


def test_offset_past_end(shared_data):
    with pytest.raises(EmptyAudioError, match="offset"):
        load_audio(shared_data / MP3, offset=100.0)


# ------------------------------------------------------------------ errors


def test_missing_file(tmp_path):
    with pytest.raises(MediaError, match="does not exist"):
        load_audio(tmp_path / "nope.wav")
    with pytest.raises(MediaError, match="does not exist"):
        audio_info(tmp_path / "nope.wav")


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(EmptyAudioError, match="empty"):
        load_audio(path)


def test_header_only_wav(tmp_path):
    path = tmp_path / "nothing.wav"
    sf.write(path, np.zeros((0,), dtype=np.float32), 16000)
    with pytest.raises(EmptyAudioError, match="0 audio samples"):
        load_audio(path)


def test_text_file_named_wav(tmp_path):
    path = tmp_path / "text.wav"
    path.write_text("this is not audio\n" * 50)
    with pytest.raises(AudioDecodeError, match="text.wav"):
        load_audio(path)
    with pytest.raises(AudioDecodeError):
        audio_info(path)


def test_video_without_audio(shared_data):
    with pytest.raises(NoAudioStreamError, match="no audio stream"):
        load_audio(shared_data / NO_AUDIO)
    with pytest.raises(NoAudioStreamError):
        iter_audio_blocks(shared_data / NO_AUDIO)


@pytest.mark.parametrize("sr", [0, -16000, 0.5, float("nan"), "16k"])
def test_invalid_sr(shared_data, sr):
    with pytest.raises(InvalidArgumentError, match="sr="):
        load_audio(shared_data / FSDD, sr=sr)


def test_invalid_offset_duration_block(shared_data):
    with pytest.raises(InvalidArgumentError, match="offset="):
        load_audio(shared_data / FSDD, offset=-1)
    with pytest.raises(InvalidArgumentError, match="duration="):
        load_audio(shared_data / FSDD, duration=0)
    with pytest.raises(InvalidArgumentError, match="block_duration="):
        iter_audio_blocks(shared_data / FSDD, block_duration=0)


def test_truncated_mp4_raises(shared_data, tmp_path):
    """A cut MP4 (its index is at the end) cannot be opened: a MediaError, no traceback."""
    data = (shared_data / MP4).read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: int(len(data) * 0.3)])
    with pytest.raises(AudioDecodeError, match="truncated"):
        load_audio(path)


def test_truncated_flv_returns_part_with_warning(shared_data, tmp_path):
    data = (shared_data / FLV).read_bytes()
    path = tmp_path / "cut.flv"
    path.write_bytes(data[: int(len(data) * 0.3)])
    with pytest.warns(RuntimeWarning, match="truncated"):
        y, sr = load_audio(path)
    assert 0.2 < len(y) / sr < 1.0  # some, not all, of the 2.235 s


def test_import_is_cheap():
    code = (
        "import sys, talkinghead.audio.io, talkinghead.video.io; "
        "heavy = {'av', 'soxr', 'librosa', 'cv2'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# 16-bit PCM wavs are read with the standard library (no soundfile import on the default path)
STEREO_WAV_48K = "OpenTalker__video-retalking/examples/audio/2.wav"  # PCM_16, 2 ch, 48 kHz
MONO_WAV_16K = "TMElyralab__MuseTalk/data/audio/eng.wav"  # PCM_16, 1 ch, 16 kHz, 60 s
WAV_24BIT = "OpenTalker__SadTalker/examples/driven_audio/imagine.wav"  # PCM_24: soundfile reads it


def _soundfile_samples(path, sr_out, offset=0.0, duration=None):
    """What load_audio returned before the 16-bit fast path: soundfile's samples, soxr."""
    import soxr

    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    start = int(round(offset * sr))
    stop = None if duration is None else start + int(round(duration * sr))
    x = x[start:stop].mean(axis=1, dtype=np.float32) if x.shape[1] > 1 else x[start:stop, 0]
    return x if sr == sr_out else soxr.resample(x, sr, sr_out, quality="HQ")


@pytest.mark.parametrize("rel", [STEREO_WAV_48K, MONO_WAV_16K])
def test_pcm16_wav_without_soundfile_equals_soundfile(shared_data, rel):
    path = shared_data / rel
    native, sr = load_audio(path, sr=None, mono=False)
    ref, sr0 = sf.read(str(path), dtype="float32", always_2d=True)
    assert sr == sr0 and np.array_equal(native, ref.T)  # the same samples, bit for bit
    y, _ = load_audio(path, sr=16000, offset=0.37, duration=2.5)
    want = _soundfile_samples(path, 16000, 0.37, 2.5)
    assert len(y) == len(want) and np.abs(y - want).max() < 1e-5
    info = audio_info(path)
    assert (info.sr, info.channels, info.n_samples, info.codec) == (
        sr0, ref.shape[1], ref.shape[0], "pcm_s16le",
    )  # fmt: skip
    code = (f"import sys; from talkinghead.audio.io import load_audio; load_audio({str(path)!r})\n"
            "assert 'soundfile' not in sys.modules, 'a 16-bit wav imported soundfile'")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True)


def test_truncated_pcm16_wav_reads_whole_frames_like_libsndfile(shared_data, tmp_path):
    src = (shared_data / STEREO_WAV_48K).read_bytes()
    path = tmp_path / "cut.wav"
    path.write_bytes(src[: len(src) // 3 + 1])  # ends inside a frame
    y, sr = load_audio(path, sr=None, mono=False)
    assert y.shape[1] == sf.info(str(path)).frames  # libsndfile's count of whole frames
    assert np.array_equal(y, sf.read(str(path), dtype="float32", always_2d=True)[0].T)


def test_24bit_wav_is_read_by_soundfile(shared_data):
    path = shared_data / WAV_24BIT
    y, sr = load_audio(path, sr=None, mono=False)
    ref, sr0 = sf.read(str(path), dtype="float32", always_2d=True)
    assert sr == sr0 and np.array_equal(y, ref.T) and audio_info(path).codec == "pcm_s24le"


def test_pcm_to_float_is_one_decoder_for_files_arrays_and_streams():
    from talkinghead.audio.io import pcm_to_float
    from talkinghead.streaming import PcmConverter

    half = [0.0, 0.5, -1.0]
    i16 = np.array([0, 16384, -32768], np.int16)
    np.testing.assert_array_equal(pcm_to_float(i16), half)
    np.testing.assert_array_equal(pcm_to_float(i16.astype(np.int32) * 65536), half)
    np.testing.assert_array_equal(pcm_to_float(i16.astype("<i2").tobytes(), "s16"), half)
    np.testing.assert_array_equal(pcm_to_float(np.array(half, "<f4").tobytes()), half)
    # a stream decodes its chunks with the same function
    np.testing.assert_array_equal(PcmConverter(16000).push(i16.astype(np.int32) * 65536), half)
    with pytest.raises(InvalidArgumentError, match="must be finite"):
        pcm_to_float(np.array([0.0, np.nan]))
    with pytest.raises(InvalidArgumentError, match="format='u8'"):
        pcm_to_float(b"ab", "u8")
