"""Atomic writes: a failed write leaves nothing, left-overs of dead processes are cleaned."""

import errno
import os
import subprocess
import sys

import numpy as np
import pytest

from talkinghead._util import atomic
from talkinghead._util.atomic import (
    atomic_path,
    clean_stale_temporaries,
    remove_live_temporaries,
    save_npy_atomic,
)
from talkinghead.errors import OutputError, TalkingHeadError


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    out = tmp_path / "clip.mp4"
    dead = tmp_path / f".clip.{_dead_pid()}-abcdefgh.part.mp4"
    legacy = tmp_path / ".clip.k2j4h5g6.part.mp4"  # written before the pid was recorded
    alive = tmp_path / f".clip.{os.getppid()}-abcdefgh.part.mp4"  # a running writer
    other = tmp_path / f".clip.b.{_dead_pid()}-abcdefgh.part.mp4"  # of clip.b.mp4
    other_ext = tmp_path / f".clip.{_dead_pid()}-abcdefgh.part.npz"  # of clip.npz
    for f in (dead, legacy, alive, other, other_ext):
        f.write_bytes(b"half a video")
    with atomic_path(out) as tmp:
        assert f".clip.{os.getpid()}-" in tmp.name and tmp.name.endswith(".part.mp4")
        tmp.write_bytes(b"new")
    assert out.read_bytes() == b"new"
    assert not dead.exists() and not legacy.exists()
    assert alive.exists() and other.exists() and other_ext.exists()
    assert clean_stale_temporaries(tmp_path / "clip.b.mp4") == [other]


def test_disk_full_in_the_writer_is_an_output_error_and_leaves_nothing(tmp_path, monkeypatch):
    out = tmp_path / "x.npy"
    out.write_bytes(b"old")

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "save", full)
    with pytest.raises(OutputError, match=r"output='.*x.npy' must be writable: the disk is full"):
        save_npy_atomic(out, np.zeros(3))
    assert out.read_bytes() == b"old" and sorted(tmp_path.iterdir()) == [out]


def test_reading_errors_in_the_body_are_not_relabelled(tmp_path):
    with pytest.raises(FileNotFoundError):
        with atomic_path(tmp_path / "y.txt"):
            open(tmp_path / "missing.txt").read()
    assert list(tmp_path.iterdir()) == []


def test_folder_that_cannot_be_created_is_an_output_error(tmp_path):
    (tmp_path / "f").write_text("a file")
    with pytest.raises(OutputError, match="must be writable") as ei:
        with atomic_path(tmp_path / "f" / "out.txt"):
            pass
    assert isinstance(ei.value, TalkingHeadError) and isinstance(ei.value, OSError)


def test_remove_live_temporaries(tmp_path):
    with atomic_path(tmp_path / "z.bin") as tmp:
        assert tmp.exists() and str(tmp) in atomic._LIVE
        remove_live_temporaries()  # what a worker's SIGTERM handler does before _exit
        assert not tmp.exists()
        tmp.write_bytes(b"recreated")  # the writer goes on; the rename still works
    assert (tmp_path / "z.bin").read_bytes() == b"recreated"
