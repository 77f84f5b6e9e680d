"""A prepare run killed mid-way resumes to the same result, with no clip done twice."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time

from threadpoolctl import threadpool_limits

from conftest import GRID_SAMPLES, link
from talkinghead.cli import main
from talkinghead.corpora.manifest import validate_manifest

ARGS = ["--size", "160", "--features", "sakurai2018", "-j", "1"]


def _done_lines(out):
    n = collections.Counter()
    for line in (out / "prepare.log").read_text().splitlines():
        parts = line.split()
        if parts[1] == "done":
            n[parts[2]] += 1
    return n


def test_kill_and_resume_equals_uninterrupted_run(shared_data, tmp_path):
    corpus = tmp_path / "grid"
    names = sorted(p.stem for p in (shared_data / GRID_SAMPLES / "GRID").glob("*.mpg"))[:8]
    for n in names:
        link(shared_data / GRID_SAMPLES / "GRID" / f"{n}.mpg", corpus / "s1" / f"{n}.mpg")

    killed = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "talkinghead",
        "prepare",
        "grid",
        str(corpus),
        str(killed),
        *ARGS,
    ]
    # one BLAS thread on both sides: the QC's speech-sync animator differs in the last float32
    # bit between 1 and 2 OpenBLAS threads, and the CLI gives a subprocess one per idle core
    env = dict(os.environ, TALKINGHEAD_PROGRESS="0", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    rec_file = killed / "recordings.jsonl"
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if rec_file.is_file() and rec_file.read_bytes().count(b"\n") >= 2:
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    n_before = rec_file.read_bytes().count(b"\n")
    assert 2 <= n_before < len(names)
    # simulate the worst case too: a torn half line at the end of both manifests
    with open(killed / "clips.jsonl", "a") as f:
        f.write('{"id": "s1/zzz", "recor')

    with threadpool_limits(1):
        assert main(["prepare", "grid", str(corpus), str(killed), *ARGS]) == 0
        fresh = tmp_path / "fresh"
        assert main(["prepare", "grid", str(corpus), str(fresh), *ARGS]) == 0

    for name in ("recordings.jsonl", "clips.jsonl", "rejected.jsonl", "qc_summary.txt"):
        assert (killed / name).read_text() == (fresh / name).read_text(), name
    assert sorted(p.name for p in (killed / "arrays").iterdir()) == sorted(
        p.name for p in (fresh / "arrays").iterdir()
    )
    done = _done_lines(killed)
    assert set(done) == {f"s1/{n}" for n in names}
    assert max(done.values()) == 1, done  # nothing finished before the kill was redone
    assert "skip " in (killed / "prepare.log").read_text()
    assert validate_manifest(killed) == []

    # a third run has nothing to do
    assert main(["prepare", "grid", str(corpus), str(killed), *ARGS]) == 0
    assert max(_done_lines(killed).values()) == 1
