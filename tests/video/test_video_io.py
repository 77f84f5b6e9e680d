"""Tests for talkinghead.video.io: round trips with A/V sync, real clips, errors, atomic writes."""

from __future__ import annotations

import csv
from fractions import Fraction

import numpy as np
import pytest

from talkinghead.audio.io import load_audio
from talkinghead.errors import (
    InvalidArgumentError,
    MediaError,
    NoVideoStreamError,
    VideoDecodeError,
)
from talkinghead.video.io import (
    Video,
    VideoFrame,
    VideoInfo,
    VideoWriter,
    fps_to_fraction,
    iter_frames,
    probe_video,
    read_video,
    write_video,
)

GRID_MPG = "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"
GRID_MP4 = "grid_s1/video/bbaf2n.mp4"
RETALK = "OpenTalker__video-retalking/examples/face/1.mp4"
CREMA = "Strong-AI-Lab__emotion/tests/test_data/data/1001_DFA_ANG_XX.flv"
EXPR = "tanshuai0219__EDTalk/test_data/expression_source.mp4"
MP3 = "lhotse-speech__lhotse/test/fixtures/common_voice_en_651325.mp3"


def _bar_frames(n: int, width: int, height: int, flash: int):
    """Dark frames with a white vertical bar at x = 4 + 2 i; frame ``flash`` is all white."""
    for i in range(n):
        image = np.full((height, width, 3), 20, dtype=np.uint8)
        image[:, 4 + 2 * i : 6 + 2 * i] = 235
        if i == flash:
            image[:] = 255
        yield image


def _click_track(n_frames: int, fps: Fraction, sr: int, at: int, extra: float = 0.0):
    """Silence with a 10 ms, 1 kHz burst starting at frame ``at``."""
    n = int(round(float(n_frames / fps) * sr)) + int(extra * sr)
    y = np.zeros(n, dtype=np.float32)
    start = int(round(float(at / fps) * sr))
    t = np.arange(int(0.01 * sr)) / sr
    y[start : start + len(t)] = 0.8 * np.sin(2 * np.pi * 1000 * t)
    return y


def _click_centre(y: np.ndarray, sr: int) -> float:
    env = np.convolve(np.abs(y), np.ones(int(0.01 * sr)) / int(0.01 * sr), mode="same")
    return float(np.argmax(env)) / sr


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize(
    ("fps", "size", "sr"),
    [(25, (128, 96), 48000), (Fraction(30000, 1001), (127, 95), 16000), (29.97, (64, 48), 44100)],
)
def test_round_trip_sync(tmp_path, fps, size, sr):
    n, k = 45, 30
    rate = fps_to_fraction(fps)
    audio = _click_track(n, rate, sr, k)
    out = tmp_path / "out.mp4"
    result = write_video(out, _bar_frames(n, *size, flash=k), fps=fps, audio=audio, sr=sr)
    assert result == out and out.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]  # no temporary left

    info = probe_video(out)
    w, h = size[0] + size[0] % 2, size[1] + size[1] % 2  # odd sizes are padded to even
    assert (info.n_frames, info.width, info.height) == (n, w, h)
    assert info.fps == pytest.approx(float(rate), abs=1e-6)
    assert info.has_audio and info.audio_sr == sr and info.codec == "h264"

    video = read_video(out)
    assert video.frames.shape == (n, h, w, 3) and video.frames.dtype == np.uint8
    np.testing.assert_allclose(video.times, np.arange(n) / float(rate), atol=1e-3)
    brightness = video.frames.mean(axis=(1, 2, 3))
    assert int(np.argmax(brightness)) == k
    bar_x = video.frames[10, h // 2, :, 0].astype(int).argmax()  # frame order kept
    assert abs(bar_x - 24) <= 1

    y, y_sr = load_audio(out, sr=None)
    assert y_sr == sr
    frame_s = 1.0 / float(rate)
    assert abs(len(y) / sr - n / float(rate)) < frame_s  # audio ends with the video
    # the click starts with the flash frame: compare the decoded times
    lag = (_click_centre(y, sr) - 0.005) - video.times[k]
    assert abs(lag) < frame_s
    assert abs(lag) < 0.005  # measured: well under 1 ms (AAC priming is compensated)


def test_pad_audio(tmp_path):
    fps, n, sr = Fraction(25), 20, 16000
    short = np.full(4000, 0.1, dtype=np.float32)  # 0.25 s for 0.8 s of video
    write_video(tmp_path / "a.mp4", _bar_frames(n, 32, 32, 99), fps=fps, audio=short, sr=sr)
    y, _ = load_audio(tmp_path / "a.mp4", sr=None)
    assert abs(len(y) / sr - 0.8) < 1 / 25
    assert np.abs(y[int(0.4 * sr) :]).max() < 0.01  # padded with silence
    long = np.zeros((2, 2 * sr), dtype=np.float32)  # stereo, 2 s
    write_video(
        tmp_path / "b.mp4",
        _bar_frames(n, 32, 32, 99),
        fps=fps,
        audio=long,
        sr=sr,
        pad_audio=False,
    )
    y, _ = load_audio(tmp_path / "b.mp4", sr=None, mono=False)
    assert y.shape[0] == 2 and abs(y.shape[1] / sr - 2.0) < 1 / 25
    write_video(tmp_path / "c.mp4", _bar_frames(n, 32, 32, 99), fps=fps, audio=long[0], sr=sr)
    y, _ = load_audio(tmp_path / "c.mp4", sr=None)
    assert abs(len(y) / sr - 0.8) < 1 / 25  # trimmed


def test_video_writer_explicit_and_silent(tmp_path):
    out = tmp_path / "w.mp4"
    writer = VideoWriter(out, fps=30).open()
    assert writer.is_open and not out.exists()
    for image in _bar_frames(12, 48, 32, 5):
        writer.write(image)
    assert writer.close() == out
    info = probe_video(out)
    assert (info.n_frames, info.fps, info.has_audio, info.audio_sr) == (12, 30.0, False, None)


def test_fps_to_fraction():
    assert fps_to_fraction(25) == Fraction(25)
    assert fps_to_fraction(29.97) == Fraction(30000, 1001)
    assert fps_to_fraction(23.976) == Fraction(24000, 1001)
    assert fps_to_fraction(22.131) == Fraction(22131, 1000)
    with pytest.raises(InvalidArgumentError, match="fps="):
        fps_to_fraction(0)


# ------------------------------------------------------------------ real clips


def _manifest(shared_data) -> dict[str, dict[str, str]]:
    with open(shared_data / "MANIFEST.tsv", newline="", encoding="utf-8") as f:
        return {row["file"]: row for row in csv.DictReader(f, delimiter="\t")}


@pytest.mark.parametrize(
    ("rel", "fps", "has_audio"),
    [(GRID_MPG, 25.0, True), (RETALK, 22.131, True), (CREMA, 29.97, True), (EXPR, 30.0, False)],
)
def test_real_clip_fps_and_frames(shared_data, rel, fps, has_audio):
    row = _manifest(shared_data)[rel]
    info = probe_video(shared_data / rel)
    assert isinstance(info, VideoInfo)
    assert info.fps == pytest.approx(fps, abs=0.01)
    assert info.fps == pytest.approx(float(row["fps"]), abs=0.01)
    assert abs(info.n_frames - float(row["duration_s"]) * float(row["fps"])) <= 2
    assert (info.width, info.height) == (int(row["width"]), int(row["height"]))
    assert info.has_audio is has_audio
    # the stated count is the decoded count; times increase
    frames = list(iter_frames(shared_data / rel, size=64))
    assert len(frames) == info.n_frames
    assert all(isinstance(f, VideoFrame) for f in frames)
    assert [f.index for f in frames] == list(range(len(frames)))
    times = np.array([f.time for f in frames])
    assert np.all(np.diff(times) > 0)
    assert (times[-1] - times[0]) / (len(times) - 1) == pytest.approx(1 / fps, rel=0.02)
    assert max(frames[0].image.shape[:2]) == 64 and frames[0].image.dtype == np.uint8


def test_grid_audio_sr_and_size_options(shared_data):
    info = probe_video(shared_data / GRID_MPG)
    assert info.audio_sr == 44100 and info.codec == "mpeg1video"
    video = read_video(shared_data / GRID_MP4, max_frames=10, size=(90, 72))
    assert isinstance(video, Video)
    assert video.frames.shape == (10, 72, 90, 3) and video.n_frames == 10
    assert video.fps == 25.0 and video.info.width == 360
    np.testing.assert_allclose(video.times, np.arange(10) / 25.0, atol=1e-6)
    small = read_video(shared_data / GRID_MP4, max_frames=2, size=180)
    assert small.frames.shape == (2, 144, 180, 3)
    same = read_video(shared_data / GRID_MP4, max_frames=1, size=1000)  # never upscaled
    assert same.frames.shape == (1, 288, 360, 3)


# ------------------------------------------------------------------ read errors


def test_missing_file(tmp_path):
    with pytest.raises(MediaError, match="does not exist"):
        probe_video(tmp_path / "nope.mp4")
    with pytest.raises(MediaError, match="does not exist"):
        iter_frames(tmp_path / "nope.mp4")


def test_audio_file_has_no_video(shared_data):
    with pytest.raises(NoVideoStreamError, match="no video stream"):
        iter_frames(shared_data / MP3)
    with pytest.raises(NoVideoStreamError):
        probe_video(shared_data / MP3)


@pytest.mark.parametrize("content", [b"", b"not a video\n" * 100])
def test_not_a_video(tmp_path, content):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(VideoDecodeError, match="bad.mp4"):
        read_video(path)


def test_truncated_real_mp4_raises(shared_data, tmp_path):
    data = (shared_data / GRID_MP4).read_bytes()  # its index (moov) is at the end
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: int(len(data) * 0.3)])
    with pytest.raises(VideoDecodeError, match="truncated"):
        read_video(path)


def test_truncated_streams_return_what_decodes(shared_data, tmp_path):
    # MPEG-PS: decodable up to the cut; the duration is re-estimated, so no warning
    data = (shared_data / GRID_MPG).read_bytes()
    path = tmp_path / "cut.mpg"
    path.write_bytes(data[: int(len(data) * 0.3)])
    video = read_video(path)
    assert 10 < video.n_frames < 75
    # FLV states its duration: fewer frames than stated -> a warning
    data = (shared_data / CREMA).read_bytes()
    path = tmp_path / "cut.flv"
    path.write_bytes(data[: int(len(data) * 0.3)])
    with pytest.warns(RuntimeWarning, match="truncated"):
        video = read_video(path)
    assert 5 < video.n_frames < 67


def test_truncated_faststart_mp4_warns(tmp_path):
    """Our MP4s put the index first, so a cut copy still yields its first frames."""
    rng = np.random.default_rng(0)
    frames = (rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(30))
    out = tmp_path / "noise.mp4"
    write_video(out, frames, fps=25, crf=30, preset="ultrafast")
    data = out.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.warns(RuntimeWarning, match="truncated"):
        video = read_video(cut)
    assert 3 < video.n_frames < 30


def test_bad_arguments(shared_data):
    with pytest.raises(InvalidArgumentError, match="size="):
        iter_frames(shared_data / GRID_MP4, size=0)
    with pytest.raises(InvalidArgumentError, match="size="):
        iter_frames(shared_data / GRID_MP4, size="big")
    with pytest.raises(InvalidArgumentError, match="max_frames="):
        read_video(shared_data / GRID_MP4, max_frames=0)


# ------------------------------------------------------------------ write errors, atomicity


def test_wrong_frame_shape_leaves_nothing(tmp_path):
    out_dir = tmp_path / "out"
    target = out_dir / "video.mp4"

    def frames():
        yield from _bar_frames(5, 32, 32, 99)
        yield np.zeros((16, 32, 3), dtype=np.uint8)

    with pytest.raises(InvalidArgumentError, match=r"shape=\(16, 32, 3\)"):
        write_video(target, frames(), fps=25, audio=np.zeros(8000, np.float32), sr=16000)
    assert not target.exists()
    assert list(out_dir.iterdir()) == []


def test_failure_keeps_existing_target(tmp_path):
    target = tmp_path / "video.mp4"
    target.write_bytes(b"old")

    def frames():
        yield np.zeros((32, 32, 3), dtype=np.uint8)
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError, match="renderer crashed"):
        write_video(target, frames(), fps=25)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["video.mp4"]


def test_writer_aborts_on_exception(tmp_path):
    target = tmp_path / "video.mp4"
    with pytest.raises(KeyError):
        with VideoWriter(target, fps=25) as writer:
            writer.write(np.zeros((32, 32, 3), dtype=np.uint8))
            raise KeyError("boom")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "frame", "match"),
    [
        ({}, np.zeros((32, 32, 3), dtype=np.float32), "dtype=float32"),
        ({}, np.zeros((32, 32), dtype=np.uint8), "must be \\(H, W, 3\\)"),
        ({"fps": 0}, None, "fps="),
        ({"audio": np.zeros(100, np.float32)}, None, "sr=None"),
        ({"audio": np.zeros(100, np.int16), "sr": 16000}, None, "audio dtype"),
        ({"audio": np.zeros((3, 100), np.float32), "sr": 16000}, None, "channels"),
        ({"crf": 99}, None, "crf="),
    ],
)
def test_write_bad_input(tmp_path, kwargs, frame, match):
    target = tmp_path / "video.mp4"
    frames = [frame if frame is not None else np.zeros((32, 32, 3), dtype=np.uint8)]
    args = {"fps": 25, **kwargs}
    with pytest.raises(InvalidArgumentError, match=match):
        write_video(target, frames, **args)
    assert list(tmp_path.iterdir()) == []


def test_write_no_frames_or_bad_suffix(tmp_path):
    with pytest.raises(InvalidArgumentError, match="at least one frame"):
        write_video(tmp_path / "video.mp4", [], fps=25)
    with pytest.raises(InvalidArgumentError, match="must end with"):
        write_video(tmp_path / "video.gif", [np.zeros((8, 8, 3), np.uint8)], fps=25)
    assert list(tmp_path.iterdir()) == []
