"""Two systems' videos of real GRID clips: the original frames ("bright") and the same
frames at 30 % brightness ("dark"), 1 s each with the clip's own speech."""

from __future__ import annotations

import numpy as np
import pytest
from study_videos import CLIPS  # noqa: E402  (tests/study is on sys.path)


@pytest.fixture(scope="session")
def two_systems(shared_data, tmp_path_factory):
    from talkinghead.audio.io import load_audio
    from talkinghead.video.io import read_video, write_video

    root = tmp_path_factory.mktemp("systems")
    out = {"bright": root / "bright", "dark": root / "dark"}
    for d in out.values():
        d.mkdir()
    for c in CLIPS:
        src = shared_data / "grid_s1" / "video" / f"{c}.mp4"
        if not src.is_file():
            pytest.skip(f"GRID clip not found at {src}")
        vid = read_video(src, max_frames=25, size=(180, 144))
        y, sr = load_audio(src, sr=16000, duration=1.0)
        write_video(out["bright"] / f"{c}.mp4", vid.frames, fps=vid.fps, audio=y, sr=sr)
        dark = (vid.frames.astype(np.float32) * 0.3).astype(np.uint8)
        write_video(out["dark"] / f"{c}.mp4", dark, fps=vid.fps, audio=y, sr=sr)
    return out
