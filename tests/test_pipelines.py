"""pipelines: speech -> a file, each output through the renderers that draw parameters."""

from __future__ import annotations

import pytest

from talkinghead.errors import InvalidArgumentError
from talkinghead.pipelines import export_speech, render_face_video


@pytest.fixture(scope="module")
def short_speech(example_speech, tmp_path_factory):
    import soundfile as sf

    y, sr = sf.read(example_speech, dtype="float32")
    wav = tmp_path_factory.mktemp("speech") / "one_second.wav"
    sf.write(wav, y[:sr], sr)
    return wav


def test_sketch_and_head_videos_carry_the_speech(short_speech, tmp_path):
    from talkinghead.inference import animate
    from talkinghead.video.io import probe_video

    anim = animate(short_speech, model="phonetic")
    for face, size in (("sketch", 32), ("3d", 48)):
        out = render_face_video(tmp_path / f"{face}.mp4", short_speech, face=face, anim=anim,
                                size=size, progress=False)  # fmt: skip
        info = probe_video(out)
        assert info.n_frames == anim.n_frames == 25 and info.has_audio
        assert (info.width, info.height) == (size, size)
    with pytest.raises(InvalidArgumentError, match="face='photo' must be 'sketch' or '3d'"):
        render_face_video(tmp_path / "x.mp4", short_speech, face="photo", anim=anim)


def test_export_animates_the_speech_when_not_given_parameters(short_speech, tmp_path):
    from talkinghead.export.arkit_csv import read_arkit_csv
    from talkinghead.face.arkit import ARKIT_INDEX

    out = export_speech(tmp_path / "a.csv", short_speech, model="phonetic")
    assert out.is_file()
    shapes = read_arkit_csv(out, fps=25)
    assert shapes.weights.shape == (25, 52)
    assert shapes.weights[:, ARKIT_INDEX["jawOpen"]].max() > 0.05  # the speech opens the jaw
