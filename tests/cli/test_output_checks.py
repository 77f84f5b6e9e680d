"""Outputs are checked before any work: never over an input, never a directory, never
in a folder that cannot be written; every OSError of an output is one error line."""

import errno
import hashlib
import os
import time

import numpy as np
import pytest

from talkinghead.cli import main

GRID = "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"


def _digest(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def run(capsys, *argv):
    """Run the CLI in-process; returns (exit status, stderr)."""
    try:
        rc = main(["-q", *map(str, argv)])
    except SystemExit as e:  # argparse
        rc = e.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return rc, err


@pytest.fixture
def clip(tmp_path, shared_data):
    p = tmp_path / "clip.mp4"  # an MPEG-PS clip under an .mp4 name (it decodes by content)
    p.write_bytes((shared_data / GRID).read_bytes())
    return p


def test_animate_over_its_own_input_is_refused(capsys, clip):
    before = _digest(clip)
    t0 = time.perf_counter()
    rc, err = run(capsys, "animate", clip, "-o", clip)
    assert rc == 2 and f"output='{clip}' must not be the input audio=" in err
    assert time.perf_counter() - t0 < 2  # before any work
    assert _digest(clip) == before
    # the same file under another spelling, or through a symbolic link
    link = clip.parent / "link.mp4"
    link.symlink_to(clip)
    rc, err = run(capsys, "animate", clip, "-o", clip.parent / "sub" / ".." / "link.mp4")
    assert rc == 2 and "must not be the input" in err and _digest(clip) == before
    assert sorted(p.name for p in clip.parent.iterdir()) == ["clip.mp4", "link.mp4"]


def test_export_over_its_params_and_params_over_the_output(capsys, tmp_path, example_speech):
    p = tmp_path / "p.npz"
    assert run(capsys, "animate", example_speech, "-o", p, "--model", "phonetic")[0] == 0
    before = _digest(p)
    rc, err = run(capsys, "export", p, "--format", "npz", "-o", p)
    assert rc == 2 and "output=" in err and "must not be the input params=" in err
    assert _digest(p) == before
    out = tmp_path / "a.mp4"
    rc, err = run(capsys, "animate", example_speech, "-o", out, "--params", out)
    assert rc == 2 and "must differ from --params=" in err and not out.exists()
    rc, err = run(capsys, "say", "hello", "-o", out, "--speech", out)
    assert rc == 2 and "must differ from --speech=" in err and not out.exists()
    rc, err = run(capsys, "animate", example_speech, "-o", out, "--params", example_speech)
    assert rc == 2 and "--params=" in err and "must not be the input audio=" in err
    assert sorted(f.name for f in tmp_path.iterdir()) == ["p.npz"]


def test_directory_and_file_in_the_way(capsys, tmp_path, example_speech):
    (tmp_path / "notes.txt").write_text("a file")
    cases = [
        (("animate", example_speech, "-o", tmp_path), "must be a file path, not a directory"),
        (("animate", example_speech, "-o", f"{tmp_path}/x/"), "not a directory"),
        (("features", example_speech, "--set", "sakurai2018", "--fps", "25",
          "-o", tmp_path / "notes.txt" / "f.npy"), "must be in a folder, but"),
        (("prepare", "person", example_speech, tmp_path / "notes.txt"),
         "out_dir='" + str(tmp_path / "notes.txt") + "' must be a folder, but it is a file"),
        (("personalize", example_speech, "-o", tmp_path / "notes.txt"), "must be a folder"),
        (("evaluate", "energy", tmp_path, "--json", tmp_path), "--json="),
        (("train", "sakurai2018", tmp_path, "-o", tmp_path / "notes.txt"), "--output="),
    ]  # fmt: skip
    for argv, needle in cases:
        rc, err = run(capsys, *argv)
        assert rc == 2 and needle in err, (argv, err)
        assert err.startswith("talkinghead: error:") and len(err.strip().splitlines()) == 1
    assert sorted(f.name for f in tmp_path.iterdir()) == ["notes.txt"]


def test_read_only_folder(capsys, tmp_path, example_speech, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: pretend the folder is read-only
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, m: False if str(p) == str(ro) else real(p, m))
    ro.chmod(0o555)
    try:
        for argv in (
            ("animate", example_speech, "-o", ro / "a.npz"),
            ("animate", example_speech, "-o", ro / "new" / "a.npz"),
            ("prepare", "person", example_speech, ro / "out"),
        ):
            rc, err = run(capsys, *argv)
            assert rc == 2 and "must be in a folder you can write to" in err, err
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


def test_full_disk_while_writing_is_one_error_line(capsys, tmp_path, example_speech, monkeypatch):
    out = tmp_path / "f.npy"

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "save", full)
    rc, err = run(capsys, "features", example_speech, "--set", "sakurai2018", "--fps", "25",
                  "-o", out)  # fmt: skip
    assert rc == 2 and err.startswith(f"talkinghead: error: output='{out}' must be writable: ")
    assert "the disk is full" in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_other_oserrors_are_one_line_too(capsys, tmp_path, example_speech, monkeypatch):
    import talkinghead.audio.features as feats

    def broken(*a, **k):
        raise OSError(errno.EIO, "Input/output error", str(example_speech))

    monkeypatch.setattr(feats, "compute_features", broken)
    rc, err = run(capsys, "features", example_speech, "--set", "sakurai2018", "--fps", "25",
                  "-o", tmp_path / "f.npy")  # fmt: skip
    assert rc == 2 and err.startswith("talkinghead: error: path=") and "must be" in err


@pytest.mark.parametrize(
    "argv, needle",
    [
        (("animate", "{speech}", "-o", "{o}.mp4", "--fps", "1e9"), "--fps='1e9' must be"),
        (("animate", "{speech}", "-o", "{o}.mp4", "--fps", "inf"), "--fps='inf' must be"),
        (("animate", "{speech}", "-o", "{o}.mp4", "--fps", "0"), "--fps='0' must be"),
        (("animate", "{speech}", "-o", "{o}.mp4", "--size", "100000"), "--size='100000' must"),
        (("animate", "{speech}", "-o", "{o}.mp4", "--face-index", "-1"), "--face-index='-1'"),
        (("render", "{o}.npz", "-o", "{o}.mp4", "--size", "3"), "--size='3' must"),
        (("track", "{speech}", "-o", "{o}.npz", "--size", "9999999"), "--size='9999999' must"),
        (("features", "{speech}", "--set", "pham2017", "-o", "{o}.npy", "--sr", "1"), "--sr="),
        (
            (
                "features",
                "{speech}",
                "--set",
                "pham2017",
                "--fps",
                "25",
                "-o",
                "{o}.npy",
                "--n-frames",
                "100000000",
            ),
            "--n-frames=100000000 must be <= 249",
        ),  # not 200 GiB
        (("say", "hi", "-o", "{o}.mp4", "--rate", "100000"), "--rate='100000' must"),
        (("prepare", "folder", "{tmp}", "{o}", "-j", "0"), "--jobs='0' must"),
        (("prepare", "folder", "{tmp}", "{o}", "-j", "100000"), "--jobs='100000' must"),
        (("prepare", "folder", "{tmp}", "{o}", "--overlap", "-3"), "--overlap='-3' must"),
        (("personalize", "{speech}", "-o", "{o}", "--steps", "0"), "--steps='0' must"),
        (("personalize", "{speech}", "-o", "{o}", "--size", "36"), "--size=36 must be a multiple"),
        (("personalize", "{speech}", "-o", "{o}", "--max-frames", "40"), "--min-frames=300 must"),
        (("train", "sakurai2018", "{tmp}", "-o", "{o}", "--lr", "0"), "--lr='0' must"),
        (("train", "sakurai2018", "{tmp}", "-o", "{o}", "--epochs", "0"), "--epochs='0' must"),
        (("serve", "--port", "70000"), "--port="),
        (("evaluate", "energy", "{tmp}", "--max-clips", "0"), "--max-clips='0' must"),
    ],
)
def test_numeric_limits_before_any_work(capsys, tmp_path, example_speech, argv, needle):
    fill = {"speech": example_speech, "o": tmp_path / "out", "tmp": tmp_path}
    t0 = time.perf_counter()
    rc, err = run(capsys, *(a.format(**fill) for a in argv))
    assert rc == 2 and needle in err, err
    assert err.startswith("talkinghead: error:") and len(err.strip().splitlines()) == 1
    assert time.perf_counter() - t0 < 3  # no work was done first
    assert list(tmp_path.iterdir()) == []  # no half-filled output folder


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 100 kB file system (tmpfs), so that writers meet a true ENOSPC."""
    import shutil
    import subprocess

    d = tmp_path / "tiny"
    d.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (the monkeypatched ENOSPC test still runs)")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=100k", "tmpfs", str(d)],
                       capture_output=True, text=True)  # fmt: skip
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    yield d
    subprocess.run(["umount", str(d)], check=False)


def test_a_really_full_disk(capsys, tiny_disk, example_speech):
    cases = [
        ("animate", example_speech, "-o", tiny_disk / "a.mp4", "--model", "phonetic"),
        ("animate", example_speech, "-o", tiny_disk / "a.glb", "--model", "phonetic"),
        ("features", example_speech, "--set", "pham2017", "--fps", "25", "-o", tiny_disk / "f.npy"),
    ]
    for argv in cases:
        rc, err = run(capsys, *argv)
        assert rc == 2 and "must be writable: the disk is full" in err, (argv, err)
        assert len(err.strip().splitlines()) == 1 and list(tiny_disk.iterdir()) == []
