"""Fuzz the command line with generated broken media and bad paths.

Every case must end in one ``talkinghead: error: ... must ...`` line with exit status 2:
no traceback, the inputs untouched (hash before and after), no output and no temporary
file left. The CLI runs in-process (``main``), so the whole set takes a few seconds.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from talkinghead.cli import main

GRID = "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"
OBAMA = "tanshuai0219__EDTalk/test_data/uncrop_Obama.mp4"


def _wav_header(sr: int, channels: int, bits: int, n_bytes: int) -> bytes:
    """A PCM WAV header whose fields may be absurd (huge sizes, zero rates)."""
    block = (channels * bits // 8) & 0xFFFF
    fmt = struct.pack("<IHHIIHH", 16, 1, channels, sr, (sr * block) & 0xFFFFFFFF, block, bits)
    riff = min(36 + n_bytes, 0xFFFFFFFF)
    data = b"data" + struct.pack("<I", n_bytes)
    return b"RIFF" + struct.pack("<I", riff) + b"WAVEfmt " + fmt + data


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def broken_media(speech: bytes, mpg: bytes, mp4: bytes) -> dict[str, bytes]:
    """Name -> content of files no command can use (each must be refused cleanly)."""
    rng = np.random.default_rng(15)
    pcm = (rng.standard_normal(1600) * 3000).astype("<i2").tobytes()
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("landmarks.npy", b"\x93NUMPY garbage")
    return {
        "empty.wav": b"",
        "empty.mp4": b"",
        "cut_in_header.wav": speech[:30],
        "header_claims_4GB.wav": _wav_header(16000, 1, 16, 0xFFFFFFF0),
        "rate_4e9.wav": _wav_header(0xFFFFFFFF, 1, 16, len(pcm)) + pcm,
        "rate_0.wav": _wav_header(0, 1, 16, len(pcm)) + pcm,
        "channels_65535.wav": _wav_header(16000, 65535, 16, len(pcm)) + pcm,
        "text.wav": b"this is not audio at all\n" * 40,
        "text.mp3": "des mots, pas du son, ça\n".encode() * 40,
        "random.flac": rng.integers(0, 256, 3000, dtype=np.uint8).tobytes(),
        "png_named.wav": b"\x89PNG\r\n\x1a\n" + bytes(200),
        "first_4k.mp4": mp4[:4096],
        "middle_only.mp4": mp4[len(mp4) // 2 :][:20000],
        "box_size_4GB.mp4": struct.pack(">I", 0xFFFFFFFF) + b"ftypisom" + bytes(500),
        "video_only_cut.mpg": mpg[:2000],  # a sliver of video without its audio
        "text.npz": b"not a zip",
        "zip_of_garbage.npz": zipped.getvalue(),
        "wrong_keys.npz": _npz(colour=np.zeros(3)),
        "animation_keys_only.npz": _npz(articulation=np.zeros((5, 3))),
        "landmarks_1d.npz": _npz(landmarks=np.zeros(5), fps=np.float64(25)),
        "fps_0.npz": _npz(landmarks=np.zeros((10, 68, 2)), fps=np.float64(0)),
    }


def commands(name: str, out: Path) -> list[list[str]]:
    """The commands that read a file like ``name`` (by its extension)."""
    if name.endswith(".npz"):
        return [
            ["render", "{in}", "-o", str(out / "r.mp4")],
            ["export", "{in}", "--format", "arkit-csv", "-o", str(out / "e.csv")],
        ]
    cmds = [
        ["animate", "{in}", "-o", str(out / "a.npz"), "--model", "phonetic"],
        ["features", "{in}", "--set", "sakurai2018", "--fps", "25", "-o", str(out / "f.npy")],
    ]
    if name.endswith(".mp4"):  # (a cut .mpg is a shorter valid video: it tracks)
        cmds.append(["track", "{in}", "-o", str(out / "t.npz")])
    return cmds


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()
    }


def run_cli(capsys, argv) -> tuple[int, str]:
    try:
        rc = main(["-q", *map(str, argv)])
    except SystemExit as e:  # argparse
        rc = e.code
    err = capsys.readouterr().err
    return rc, err


def assert_refused(rc: int, err: str, argv) -> None:
    assert "Traceback" not in err, (argv, err)
    lines = [ln for ln in err.strip().splitlines() if ln.startswith("talkinghead: error:")]
    assert rc == 2 and len(lines) == 1, (argv, rc, err)
    assert "=" in lines[0] and " must " in lines[0], (argv, lines[0])


@pytest.fixture(scope="module")
def media(tmp_path_factory, shared_data, example_speech):
    d = tmp_path_factory.mktemp("media")
    cases = broken_media(
        example_speech.read_bytes(),
        (shared_data / GRID).read_bytes(),
        (shared_data / OBAMA).read_bytes(),
    )
    for name, data in cases.items():
        (d / name).write_bytes(data)
    return d


def test_broken_media_is_refused_cleanly(capsys, tmp_path, media):
    before = _digests(media)
    out = tmp_path / "out"
    out.mkdir()
    n = 0
    for f in sorted(media.iterdir()):
        for cmd in commands(f.name, out):
            argv = [str(f) if a == "{in}" else a for a in cmd]
            rc, err = run_cli(capsys, argv)
            assert_refused(rc, err, argv)
            assert list(out.iterdir()) == [], (argv, list(out.iterdir()))
            n += 1
    assert n >= 45
    assert _digests(media) == before  # inputs untouched, nothing added beside them


def test_bad_paths_are_refused_cleanly(capsys, tmp_path, shared_data, example_speech, monkeypatch):
    src = tmp_path / "in"
    src.mkdir()
    speech = src / "speech.wav"
    speech.write_bytes(example_speech.read_bytes())
    clip = src / "clip.mp4"  # GRID's MPEG-PS under an .mp4 name: decodes by content
    clip.write_bytes((shared_data / GRID).read_bytes())
    params = src / "p.npz"
    assert run_cli(capsys, ["animate", clip, "-o", params, "--model", "phonetic"])[0] == 0
    (src / "notes.txt").write_text("a file, not a folder")
    out = tmp_path / "out"
    out.mkdir()
    ro = tmp_path / "read-only"
    ro.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: make the access check see a read-only folder
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, m: False if str(p) == str(ro) else real(p, m))
    ro.chmod(0o555)
    before = _digests(src)
    cases = [
        ["animate", clip, "-o", clip],  # same file as the input
        ["animate", clip, "-o", src / "x" / ".." / "clip.mp4"],  # the same, spelt otherwise
        ["export", params, "--format", "npz", "-o", params],
        ["animate", speech, "-o", out / "a.mp4", "--params", out / "a.mp4"],
        ["animate", speech, "-o", out / "a.npz", "--params", speech],  # over the input
        ["render", params, "-o", out / "r.mp4", "--reference", params, "--audio", out / "r.mp4"],
        ["animate", speech, "-o", out],  # a directory
        ["features", speech, "--set", "pham2017", "--fps", "25", "-o", f"{out}/"],
        ["track", clip, "-o", src / "notes.txt" / "t.npz"],  # a file in the way
        ["animate", speech, "-o", ro / "a.npz"],  # a read-only folder
        ["prepare", "person", clip, ro / "person"],
        ["prepare", "person", clip, src / "notes.txt"],  # out_dir is a file
        ["prepare", "folder", src, src],
        ["personalize", clip, "-o", clip],
        ["animate", tmp_path / "no-such-dir" / "speech.wav", "-o", out / "a.npz"],
        ["animate", src, "-o", out / "a.npz"],  # a folder as the input
        ["animate", speech, "-o", out / "a.npz", "--transcript-file", src / "missing.txt"],
        ["animate", speech, "-o", out / "a.avi"],  # unknown output extension
    ]
    try:
        for argv in cases:
            rc, err = run_cli(capsys, argv)
            assert_refused(rc, err, argv)
            assert list(out.iterdir()) == [] and list(ro.iterdir()) == [], argv
    finally:
        ro.chmod(0o755)
    assert _digests(src) == before
    assert not (tmp_path / "no-such-dir").exists()


def test_unicode_names_and_new_folders_work(capsys, tmp_path, example_speech):
    speech = tmp_path / "réplique 音声 ü.wav"
    speech.write_bytes(example_speech.read_bytes())
    out = tmp_path / "nouveau dossier" / "出力 ø.npz"  # missing folders are created
    rc, err = run_cli(capsys, ["animate", speech, "-o", out, "--model", "phonetic"])
    assert rc == 0, err
    assert np.load(out)["landmarks"].shape[1:] == (68, 2)
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]  # no temporary file
