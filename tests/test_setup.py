"""`make sysdeps` cannot fail the set-up, and `make demo` does not depend on it.

Reproduces a fresh Debian machine where apt refuses some packages (chromium unavailable,
npm conflicting with a NodeSource node) with fake ``apt-get``, ``id``, ``node`` and
``dpkg-query`` programs on an otherwise empty PATH, and runs the real Makefile target.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")
SH = shutil.which("sh")
pytestmark = pytest.mark.skipif(MAKE is None or SH is None, reason="needs make and sh")


def _fake(bindir: Path, name: str, body: str) -> None:
    p = bindir / name
    p.write_text("#!" + SH + "\n" + body + "\n")
    p.chmod(0o755)


def _machine(tmp_path, *, uid=0, node=None, refuse=("chromium",)):
    """A PATH with only fakes: apt-get logs each call and refuses the ``refuse`` packages."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "sh").symlink_to(SH)
    log = tmp_path / "apt.log"
    _fake(bindir, "id", f"echo {uid}")
    cases = "|".join(refuse) or "__none__"
    refuse_sh = f'case "$a" in {cases}) echo "E: refused $a" >&2; exit 100;; esac'
    _fake(bindir, "apt-get", f'echo "$*" >> {log}\nfor a in "$@"; do {refuse_sh}; done')
    if node is not None:
        _fake(bindir, "node", "echo v20.20.2")
        _fake(bindir, "dpkg-query", f"printf %s '{node}'")
    return bindir, log


def _sysdeps(tmp_path, bindir):
    env = {"PATH": str(bindir), "HOME": str(tmp_path), "SYSDEPS_LIBDIRS": str(tmp_path / "nolib")}
    return subprocess.run([MAKE, "-s", "-C", str(REPO), "sysdeps"], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def _apt_calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_refused_packages_and_a_nodesource_node_do_not_fail_the_target(tmp_path):
    bindir, log = _machine(tmp_path, node="20.20.2-1nodesource1+repack1")
    res = _sysdeps(tmp_path, bindir)
    assert res.returncode == 0, res.stderr
    calls = _apt_calls(log)
    installs = [c.split()[-1] for c in calls if c.startswith("install")]
    # one package per call; never nodejs or npm beside a node from elsewhere
    assert all(len([w for w in c.split() if not w.startswith("-")]) == 2 for c in calls[1:])
    assert installs == ["chromium", "espeak-ng", "libegl1", "libegl-mesa0", "libgl1-mesa-dri"]
    assert calls[0].startswith("update")
    out = res.stdout
    assert "skipped npm" in out and "apt's npm conflicts" in out
    assert "installed: espeak-ng libegl1 libegl-mesa0 libgl1-mesa-dri" in out
    assert "failed: chromium" in out


def test_without_node_nodejs_and_npm_are_asked_for_separately(tmp_path):
    bindir, log = _machine(tmp_path, refuse=("npm", "chromium"))
    res = _sysdeps(tmp_path, bindir)
    assert res.returncode == 0, res.stderr
    installs = [c.split()[-1] for c in _apt_calls(log) if c.startswith("install")]
    assert installs.index("nodejs") < installs.index("npm")
    assert "failed: chromium npm" in res.stdout and "installed: espeak-ng nodejs" in res.stdout


def test_not_root_only_reports(tmp_path):
    bindir, log = _machine(tmp_path, uid=1000, node="18.19.0+dfsg-6~deb12u2")
    res = _sysdeps(tmp_path, bindir)
    assert res.returncode == 0 and _apt_calls(log) == []
    assert "not installing (needs root and apt-get)" in res.stdout
    assert "npm" in res.stdout  # Debian's node without npm: npm is what is missing


def test_demo_does_not_need_sysdeps_but_test_runs_it():
    env = dict(os.environ, VENV=".venv-never-created")
    demo = subprocess.run([MAKE, "-n", "-C", str(REPO), "demo"], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert demo.returncode == 0 and "talkinghead animate" in demo.stdout
    assert "sysdeps" not in demo.stdout
    test = subprocess.run([MAKE, "-n", "-C", str(REPO), "test"], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert test.returncode == 0 and "scripts/sysdeps.sh" in test.stdout
