"""Without mediapipe, everything that tracks a face stops first, with the two install commands.

mediapipe 0.10.21 cannot be a dependency of ``talkinghead[tracking]`` (its pins break the
core install, see README "Installing with pip"), so ``track``, ``--photo``, ``prepare`` and
``personalize`` check for it before any work and raise
:class:`talkinghead.errors.DependencyError` carrying exactly what to run. "Not installed" is
simulated with ``sys.modules["mediapipe"] = None``, which makes ``import mediapipe`` fail
and ``importlib.util.find_spec`` report it missing, as on a machine without it.
"""

import sys

import pytest

from talkinghead.errors import DependencyError

COMMANDS = "pip install 'talkinghead[tracking]' && pip install --no-deps mediapipe==0.10.21"
GRID_CLIP = "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"


@pytest.fixture
def no_mediapipe(monkeypatch):
    monkeypatch.setitem(sys.modules, "mediapipe", None)


def test_the_check_and_the_tracker_name_both_commands(no_mediapipe):
    from talkinghead.face.tracking import FaceTracker, require_tracking

    with pytest.raises(DependencyError) as e:
        require_tracking()
    assert COMMANDS in str(e.value) and "not installed: mediapipe" in str(e.value)
    with pytest.raises(DependencyError) as e:  # the import itself, for library callers
        FaceTracker(static_image_mode=True)
    assert COMMANDS in str(e.value)


def test_a_missing_runtime_dependency_of_mediapipe_is_named(monkeypatch):
    from talkinghead.face.tracking import require_tracking

    monkeypatch.setitem(sys.modules, "flatbuffers", None)  # [tracking] extra not installed
    with pytest.raises(DependencyError, match="not installed: flatbuffers") as e:
        require_tracking()
    assert COMMANDS in str(e.value)


def test_prepare_fails_before_any_work(no_mediapipe, tmp_path, shared_data):
    from talkinghead.corpora.manifest import Recording
    from talkinghead.corpora.pipeline import prepare

    clip = str(shared_data / GRID_CLIP)
    out = tmp_path / "prepared"
    with pytest.raises(DependencyError) as e:
        prepare([Recording(id="bbaf2n", video=clip, audio=clip)], out, features=())
    assert COMMANDS in str(e.value)
    # nothing was processed: no clip was rejected for it in a worker
    assert not (out / "clips.jsonl").exists() and not (out / "recordings.jsonl").exists()


def _photo(shared_data, path):
    """A real photo: the first frame of a talking-head video, as a JPEG."""
    import cv2
    import numpy as np

    from talkinghead.video.io import read_video

    frame = read_video(shared_data / "tanshuai0219__EDTalk/test_data/uncrop_Obama.mp4",
                       max_frames=1).frames[0]  # fmt: skip
    assert cv2.imwrite(str(path), np.ascontiguousarray(frame[:, :, ::-1]))
    return path


@pytest.mark.parametrize("command", ["track", "prepare", "photo"])
def test_the_cli_prints_the_commands_and_writes_nothing(
    command, no_mediapipe, tmp_path, shared_data, example_speech, capsys
):
    from talkinghead.cli import main

    clip = str(shared_data / GRID_CLIP)
    inputs = tmp_path / "in"
    inputs.mkdir()
    out = tmp_path / "out"
    argv = {
        "track": lambda: ["track", clip, "-o", f"{out}.npz"],
        "prepare": lambda: ["prepare", "person", clip, str(out)],
        "photo": lambda: ["animate", str(example_speech), "--photo",
                          str(_photo(shared_data, inputs / "me.jpg")), "-o", f"{out}.mp4"],
    }[command]()  # fmt: skip
    assert main(["-q", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("talkinghead: error: face tracking") and COMMANDS in err
    assert "Traceback" not in err
    written = [p for p in tmp_path.rglob("*") if inputs not in (p, *p.parents)]
    assert [p for p in written if p.is_file()] == [], written
