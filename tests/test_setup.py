"""`make sysdeps` cannot fail the set-up, and `make demo` does not depend on it.

Reproduces a fresh Debian machine where apt refuses some packages (chromium unavailable,
npm conflicting with a NodeSource node) with fake ``apt-get``, ``id``, ``node`` and
``dpkg-query`` programs on an otherwise empty PATH, and runs the real Makefile targets with
the real scripts/sysdeps.sh: ``sysdeps`` alone, and ``demo`` and ``test`` with a stand-in for
the virtualenv (what cannot be reproduced here is its creation: pip and PyPI).
"""

import shutil
import subprocess
import sys
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


def _venv_stand_in(tmp_path, log: Path) -> Path:
    """A ``VENV`` for the Makefile that is already "installed" (``.installed`` newer than
    pyproject.toml and the Makefile, so its recipe, which creates and fills a virtualenv,
    does not run): ``talkinghead`` runs this checkout's CLI with this Python, ``ruff`` is the
    real one (each call logged), ``pytest`` only logs its arguments (the suite is not run
    from inside itself)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / ".installed").touch()
    th = venv / "bin" / "talkinghead"
    th.write_text(f"#!{sys.executable}\nimport sys\nfrom talkinghead.cli import main\n"
                  "sys.exit(main())\n")  # fmt: skip
    th.chmod(0o755)
    _fake(venv / "bin", "ruff", f'echo "ruff $*" >> {log}\nexec {RUFF} "$@"')
    _fake(venv / "bin", "pytest", f'echo "pytest $*" >> {log}')
    return venv


RUFF = Path(sys.executable).parent / "ruff"


@pytest.mark.skipif(not RUFF.exists(), reason="needs ruff beside this Python (the [dev] extra)")
def test_make_demo_and_make_test_where_apt_cannot_install_chromium_or_npm(tmp_path):
    """The real Makefile targets, as far as they go without reinstalling the virtualenv:
    ``make demo`` animates examples/speech.wav and never calls apt; ``make test`` runs the
    real sysdeps.sh (apt refuses chromium and npm, no node installed), then the real lint,
    then pytest, and succeeds."""
    bindir, apt_log = _machine(tmp_path, refuse=("chromium", "npm"))
    calls = tmp_path / "calls.log"
    venv = _venv_stand_in(tmp_path, calls)
    out = tmp_path / "out"
    env = {"PATH": str(bindir), "HOME": str(tmp_path), "SYSDEPS_LIBDIRS": str(tmp_path / "nolib"),
           "PYTHONPATH": str(REPO / "src"), "TALKINGHEAD_PROGRESS": "0"}  # fmt: skip

    def make(target):
        return subprocess.run([MAKE, "-C", str(REPO), target, f"VENV={venv}", f"OUT={out}"],
                              env=env, capture_output=True, text=True, timeout=120)  # fmt: skip

    demo = make("demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert _apt_calls(apt_log) == []  # the demo needs none of the system packages
    assert (out / "demo.mp4").stat().st_size > 10_000 and (out / "demo.npz").is_file()
    assert "animated 8.14 s of speech" in demo.stdout

    test = make("test")
    assert test.returncode == 0, test.stdout + test.stderr
    installs = [c.split()[-1] for c in _apt_calls(apt_log) if c.startswith("install")]
    assert installs == ["chromium", "espeak-ng", "nodejs", "npm", "libegl1", "libegl-mesa0",
                        "libgl1-mesa-dri"]  # fmt: skip
    assert "sysdeps: failed: chromium npm" in test.stdout
    # then the lint and the suite ran, in that order, after sysdeps
    assert calls.read_text().splitlines() == [
        "ruff check src tests bench scripts",
        "ruff format --check src tests bench scripts",
        "pytest -q",
    ]
    assert test.stdout.index("sysdeps: failed") < test.stdout.index("ruff check")
