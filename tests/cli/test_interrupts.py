"""SIGTERM/SIGINT remove the temporary output; a SIGKILL's left-over is removed by the
next run; ``prepare -j 2`` workers die with their parent."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

GRID = "rizkiarm__LipNet/evaluation/samples/GRID/"


def _start(*argv, **kw):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # SIGINT as in a terminal, even when the test runner was started in the background
    return subprocess.Popen([sys.executable, "-m", "talkinghead", "-q", *map(str, argv)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                            **kw)  # fmt: skip


def _wait_for(pred, timeout=60.0, what=""):
    t0 = time.monotonic()
    while not pred():
        assert time.monotonic() - t0 < timeout, f"timed out waiting for {what}"
        time.sleep(0.02)


def _parts(folder):
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name)


@pytest.fixture(scope="module")
def long_speech(tmp_path_factory, example_speech):
    """40 s of real speech (the example, four times and a half), for a render that lasts."""
    y, sr = sf.read(example_speech, dtype="float32")
    p = tmp_path_factory.mktemp("speech") / "long.wav"
    sf.write(p, np.tile(y, 5)[: 40 * sr], sr)
    return p


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_render_removes_the_temporary_file(tmp_path, long_speech, sig, code):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"the user's previous video")
    proc = _start("animate", long_speech, "-o", out, "--model", "phonetic", "--size", "1024")
    try:
        _wait_for(lambda: _parts(tmp_path), what="the temporary video")
        time.sleep(0.3)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("talkinghead: ")
    assert _parts(tmp_path) == [] and out.read_bytes() == b"the user's previous video"


@pytest.mark.slow
def test_sigkill_leftover_is_cleaned_by_the_next_run(tmp_path, long_speech, example_speech):
    out = tmp_path / "out.mp4"
    proc = _start("animate", long_speech, "-o", out, "--model", "phonetic", "--size", "1024")
    try:
        _wait_for(lambda: _parts(tmp_path), what="the temporary video")
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        proc.kill()
    left = _parts(tmp_path)
    assert len(left) == 1 and left[0].startswith(f".out.{proc.pid}-") and not out.exists()
    done = _start("animate", example_speech, "-o", out, "--model", "phonetic")
    _, err = done.communicate(timeout=120)
    assert done.returncode == 0, err
    assert out.stat().st_size > 10000 and _parts(tmp_path) == []


def _children(pid):
    """Live processes whose parent is ``pid`` (from /proc; zombies count as gone)."""
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            kids.append((int(d), cmd))
    return kids


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _catches_sigterm(pid: int) -> bool:
    """Whether process ``pid`` has a SIGTERM handler installed (Linux /proc status SigCgt)."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    except OSError:
        pass
    return False


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_prepare_workers_die_with_their_parent(tmp_path, shared_data, sig):
    """SIGKILL: the kernel's parent-death signal ends them; SIGTERM / Ctrl-C: the parent
    stops them and exits 143 / 130 at once (without waiting for their recordings)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for src in sorted((shared_data / GRID).glob("*.mpg"))[:6]:
        (corpus / src.name).symlink_to(src)
    if len(list(corpus.iterdir())) < 2:
        pytest.skip("fewer than 2 GRID samples in the shared data")
    out = tmp_path / "out"
    proc = _start("prepare", "folder", corpus, out, "-j", "2", "--no-features")
    try:
        workers = []

        def two_workers():
            workers[:] = [p for p, c in _children(proc.pid) if "spawn_main" in c
                          and "resource_tracker" not in c]  # fmt: skip
            # ready = past their imports and initializer (SIGTERM caught): a signal that
            # comes while a worker is still importing tests the start-up, not this promise
            return len(workers) == 2 and all(_catches_sigterm(w) for w in workers)

        _wait_for(two_workers, timeout=120, what="two prepare workers past their initializer")
        time.sleep(0.5)  # let them start on their recordings
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
        if sig != signal.SIGKILL:
            assert proc.returncode == 128 + sig and "Traceback" not in err, err
            assert ("terminated" if sig == signal.SIGTERM else "interrupted") in err
        t0 = time.monotonic()
        while any(_alive(w) for w in workers) and time.monotonic() - t0 < 15:
            time.sleep(0.1)
        assert not any(_alive(w) for w in workers), "workers outlived their parent"
    finally:
        proc.kill()
        for w in workers:
            if _alive(w):
                os.kill(w, signal.SIGKILL)
    # the dying workers removed their temporary files
    assert not [p for p in out.rglob("*") if ".part" in p.name]
