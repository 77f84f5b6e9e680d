"""The command line end to end on real files: outputs exist, errors are one clean line."""

import json
import subprocess
import sys

import numpy as np
import pytest

from talkinghead.cli import main
from talkinghead.video.io import probe_video


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "talkinghead", *args], capture_output=True, text=True, timeout=300
    )


def test_help_explains_every_command():
    out = _run("--help")
    assert out.returncode == 0
    for cmd in ("track", "features", "animate", "render"):
        assert cmd in out.stdout
    out = _run("animate", "--help")
    assert "--transcript" in out.stdout and "--fps" in out.stdout


def test_animate_writes_mp4_with_audio_and_params(tmp_path, example_speech):
    mp4, npz = tmp_path / "a.mp4", tmp_path / "a.npz"
    assert main(["-q", "animate", str(example_speech), "-o", str(mp4), "--params", str(npz)]) == 0
    info = probe_video(mp4)
    assert info.has_audio and abs(info.fps - 25) < 1e-6
    z = np.load(npz)
    assert z["landmarks"].shape == (info.n_frames, 68, 2)
    assert abs(info.n_frames - round(8.14 * 25)) <= 1
    # the rendered parameters render again through `render`
    mp4b = tmp_path / "b.mp4"
    assert main(["-q", "render", str(npz), "--audio", str(example_speech), "-o", str(mp4b)]) == 0
    assert probe_video(mp4b).n_frames == info.n_frames


def test_features_from_a_video_use_its_frame_count(tmp_path, shared_data):
    clip = shared_data / "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"
    out = tmp_path / "f.npy"
    assert main(["-q", "features", str(clip), "--set", "sakurai2018", "-o", str(out)]) == 0
    x = np.load(out)
    assert x.shape == (75, 40) and np.isfinite(x).all()


def test_track_then_render_side_by_side(tmp_path, shared_data):
    clip = shared_data / "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"
    track = tmp_path / "t.npz"
    assert main(["-q", "track", str(clip), "-o", str(track), "--max-frames", "25"]) == 0
    anim = tmp_path / "a.npz"
    assert main(["-q", "animate", str(clip), "-o", str(anim)]) == 0
    out = tmp_path / "sbs.mp4"
    args = ["-q", "render", str(anim), "--reference", str(track), "--audio", str(clip)]
    assert main([*args, "-o", str(out)]) == 0
    info = probe_video(out)
    assert info.width == 512 and info.n_frames == 75 and info.has_audio


@pytest.mark.parametrize(
    "content,needle", [(b"", "audio"), (b"this is not audio at all\n" * 20, "audio")]
)
def test_bad_audio_is_one_clean_error_and_no_output(tmp_path, content, needle):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    out = tmp_path / "o.mp4"
    res = _run("animate", str(bad), "-o", str(out))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert res.stderr.startswith("talkinghead: error:") and needle in res.stderr.lower()
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


def test_wrong_output_extension_is_rejected(tmp_path, example_speech):
    res = _run("animate", str(example_speech), "-o", str(tmp_path / "x.avi"))
    assert res.returncode == 2 and "output=" in res.stderr and "must end in" in res.stderr


def test_animate_3d_head_and_every_export_format(tmp_path, example_speech):
    from talkinghead.export import FORMATS
    from talkinghead.export.arkit_csv import read_arkit_csv

    mp4 = tmp_path / "head.mp4"
    npz = tmp_path / "p.npz"
    args = ["-q", "animate", str(example_speech), "-o", str(mp4), "--face", "3d"]
    assert main([*args, "--size", "256", "--params", str(npz)]) == 0
    info = probe_video(mp4)
    assert info.width == 256 and info.has_audio and abs(info.n_frames - 204) <= 1
    for fmt, f in FORMATS.items():
        out = tmp_path / f"out_{fmt}{f.suffix}"
        # saving the parameters computed no phones: formats that need them recognise them
        # from the speech (--audio)
        audio = ["--audio", str(example_speech)] if "phones" in f.needs else []
        assert main(["-q", "export", str(npz), "--format", fmt, "-o", str(out), *audio]) == 0
        assert out.stat().st_size > 0, fmt
    res = _run("export", str(npz), "--format", "rhubarb-tsv", "-o", str(tmp_path / "x.tsv"))
    assert res.returncode == 2 and "must hold phones" in res.stderr and "--audio" in res.stderr
    assert not (tmp_path / "x.tsv").exists()
    csv = read_arkit_csv(tmp_path / "out_arkit-csv.csv")
    jaw = csv.weights[:, csv.names.index("jawOpen")]
    assert csv.weights.shape == (info.n_frames, 52) and jaw.max() > 0.2 and jaw.min() < 0.1
    tsv = (tmp_path / "out_rhubarb-tsv.tsv").read_text().splitlines()
    assert tsv[0].split("\t")[1] == "X" and len(tsv) > 10


def test_export_from_a_face_track(tmp_path, shared_data):
    clip = shared_data / "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"
    track = tmp_path / "t.npz"
    assert main(["-q", "track", str(clip), "-o", str(track), "--size", "256"]) == 0
    out = tmp_path / "t.csv"
    assert main(["-q", "export", str(track), "--format", "arkit-csv", "-o", str(out)]) == 0
    res = _run("export", str(track), "--format", "rhubarb-tsv", "-o", str(tmp_path / "x.tsv"))
    assert res.returncode == 2 and "needs phones" in res.stderr


def test_animate_a_photo(tmp_path, shared_data, example_speech, capsys):
    import cv2

    from talkinghead.video.io import read_video

    frame = read_video(
        shared_data / "tanshuai0219__EDTalk/test_data/uncrop_Obama.mp4", max_frames=1
    ).frames[0]
    photo = tmp_path / "face.jpg"
    cv2.imwrite(str(photo), frame[:, :, ::-1])
    out = tmp_path / "photo.mp4"
    args = ["-q", "animate", str(example_speech), "--photo", str(photo), "--size", "256"]
    assert main([*args, "-o", str(out)]) == 0
    info = probe_video(out)
    assert info.has_audio and abs(info.n_frames - 204) <= 1
    res = _run("animate", str(example_speech), "--photo", str(example_speech), "-o", str(out))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    # --size only downscales: the photo is 450 px (checked before the speech analysis)
    big = ["animate", str(example_speech), "--photo", str(photo), "--size", "1024"]
    assert main([*big, "-o", str(tmp_path / "big.mp4")]) == 2
    assert "size=1024 must be <= 450" in capsys.readouterr().err


def test_say_text_to_face(tmp_path):
    import shutil

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng; `make test` does)")
    out, wav, npz = tmp_path / "say.mp4", tmp_path / "say.wav", tmp_path / "say.npz"
    args = ["-q", "say", "Maybe we can build a better face.", "-o", str(out)]
    assert main([*args, "--speech", str(wav), "--params", str(npz)]) == 0
    info = probe_video(out)
    assert info.has_audio and info.n_frames > 25
    z = np.load(npz)
    labels = [p[0] for p in json.loads(str(z["meta"]))["phones"]]
    # the phones come from forced alignment of the text: the words' bilabials are there
    assert labels.count("M") >= 1 and labels.count("B") >= 2
    assert np.ptp(z["mouth_open"]) > 0.05
    res = _run("say", "hello", "--voice", "no-such-voice", "-o", str(tmp_path / "x.mp4"))
    assert res.returncode == 2 and "voice=" in res.stderr and not (tmp_path / "x.mp4").exists()


def test_personalize_then_animate_the_person(tmp_path, shared_data, example_speech):
    grid = shared_data / "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"
    person = tmp_path / "person"
    out = _run("-q", "personalize", str(grid), "-o", str(person), "--max-frames", "40",
               "--min-frames", "30", "--size", "32", "--steps", "2", "--refiner-init", "none",
               "--mouth-steps", "2", "--av-offset", "0.04")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "audio offset +40 ms (given)" in out.stdout and "from scratch" in out.stdout
    meta = json.loads((person / "person.json").read_text())
    assert meta["av_sync"]["offset_s"] == 0.04 and meta["refiner"]["steps"] == 2
    assert meta["mouth_generator"]["steps"] == 2  # the learned mouth's 200 default: too slow here
    assert (person / "mouth_generator" / "config.json").is_file()
    mp4 = tmp_path / "p.mp4"
    assert (
        main(["-q", "animate", str(example_speech), "--person", str(person), "-o", str(mp4)]) == 0
    )
    info = probe_video(mp4)
    assert info.has_audio and (info.width, info.height) == (360, 288)
    assert abs(info.n_frames - round(8.14 * 25)) <= 1
    bad = _run("-q", "personalize", str(grid), "-o", str(tmp_path / "q"), "--av-offset", "soon")
    assert bad.returncode != 0 and "--av-offset='soon' must be" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_closures_whisper_on_the_command_line(tmp_path, example_speech):
    """``--closures whisper`` runs the default model with its Whisper-frame /p b m/
    classifier (the lips close where it hears a bilabial); refused, before any work, with
    the phonetic animator."""
    res = _run("animate", str(example_speech), "-o", str(tmp_path / "p.npz"), "--model",
               "phonetic", "--closures", "whisper")  # fmt: skip
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.startswith("talkinghead: error: closures='whisper' must come with a learned")
    assert list(tmp_path.iterdir()) == []
    pytest.importorskip("ctranslate2")
    plain, shut = tmp_path / "d.npz", tmp_path / "c.npz"
    assert main(["-q", "animate", str(example_speech), "-o", str(plain)]) == 0
    assert main(["-q", "animate", str(example_speech), "-o", str(shut), "--closures",
                 "whisper"]) == 0  # fmt: skip
    a, b = np.load(plain)["mouth_open"], np.load(shut)["mouth_open"]
    assert a.shape == b.shape and np.all(b <= a + 1e-6)
    assert np.sum(b < 0.5 * a - 0.01) >= 3  # it closes lips the default leaves open


def test_photo_run_prints_one_clean_warning_and_no_native_chatter(
    tmp_path, shared_data, example_speech
):
    """A small face from the command line: the upscaling warning reads like the errors
    (``talkinghead: warning: ...``, no Python file or source line) and mediapipe's start-up
    log lines (XNNPACK delegate, absl, W0000 ...) are not shown."""
    import cv2
    import soundfile as sf

    from talkinghead.video.io import read_video

    frame = read_video(shared_data / "OpenTalker__video-retalking/examples/face/2.mp4",
                       max_frames=1).frames[0][:, 140:700]  # fmt: skip
    small = cv2.resize(frame, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)  # ~33 px
    photo = tmp_path / "small.png"
    cv2.imwrite(str(photo), cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
    y, sr = sf.read(str(example_speech), dtype="float32")
    short = tmp_path / "short.wav"
    sf.write(str(short), y[:sr], sr)  # 1 s
    out = _run("-q", "animate", str(short), "--photo", str(photo), "-o", str(tmp_path / "p.mp4"))
    assert out.returncode == 0, out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert lines == [lines[0]] and lines[0].startswith("talkinghead: warning: photo="), lines
    assert "upscaled to 60 px" in lines[0] and ".py:" not in lines[0]
