"""The study end to end in headless Chromium: `study make`, the page driven by scripted
raters with the keyboard (one looks at the decoded frames), resume, `study report`."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from study_videos import CLIPS  # noqa: E402  (tests/study is on sys.path)

from node_tools import node_modules_skip_reason  # noqa: E402  (tests/ is on sys.path)

JS = Path(__file__).resolve().parent / "js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PLAYWRIGHT = [JS / "node_modules" / "playwright-core",
              JS.parents[1] / "export" / "js" / "node_modules" / "playwright-core"]  # fmt: skip


def _install_playwright() -> str | None:
    """A skip reason, or None once playwright-core is installed (``npm ci``, conftest)."""
    if any(p.is_dir() for p in PLAYWRIGHT):
        return None
    return node_modules_skip_reason()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StudyServer:
    def __init__(self, study_dir) -> None:
        import uvicorn

        from talkinghead.study.server import create_study_app

        self.port = _free_port()
        self.app = create_study_app(study_dir)
        conf = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="error")
        self.server = uvicorn.Server(conf)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        t0 = time.monotonic()
        while not self.server.started:
            assert time.monotonic() - t0 < 20, "server did not start"
            time.sleep(0.02)
        self.http = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def _rater(url, policy, name, stop_after=None):
    cmd = ["node", str(JS / "rater.mjs"), url, policy, name]
    if stop_after is not None:
        cmd.append(str(stop_after))
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=150)
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout)
    assert res["ok"], res
    return res


def test_study_in_headless_chromium(two_systems, tmp_path):
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"chromium not found at {CHROMIUM} (set CHROMIUM)")
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    reason = _install_playwright()
    if reason:
        pytest.skip(reason)
    pytest.importorskip("uvicorn", reason="the serve extra (uvicorn) is not installed")
    from talkinghead.cli import main
    from talkinghead.study.manifest import load_study

    d = tmp_path / "study"
    assert main(["-q", "study", "make", str(d), "--system", f"bright={two_systems['bright']}",
                 "--system", f"dark={two_systems['dark']}", "--seed", "11"]) == 0  # fmt: skip
    st = load_study(d)
    n = len(st.items)
    server = StudyServer(d)
    try:
        # rater 1 judges the decoded pictures: stops after 3 items, then resumes by address
        first = _rater(server.http + "/", "brighter", "eye-rater", stop_after=3)
        s1 = first["study"]
        assert s1["state"] == "item" and s1["answered"] == 3 and s1["total"] == n
        assert "session=" in s1["url"]
        rest = _rater(s1["url"], "brighter", "ignored")  # a fresh browser: resumes by URL
        assert rest["study"]["state"] == "done" and rest["study"]["session"] == s1["session"]
        decisions = first["decisions"] + rest["decisions"]
        assert len(decisions) == n and len({d["item"] for d in decisions}) == n
        for dec in decisions:  # every video decoded: real frames, bright ~3x the dark
            assert all(v["w"] == 180 and v["h"] == 144 for v in dec["light"])
            if dec["kind"] == "ab":
                hi, lo = sorted(v["mean"] for v in dec["light"])[::-1]
                assert hi > 2 * lo
        # rater 2: always A and 3
        other = _rater(server.http + "/", "left3", "lefty")
        assert other["study"]["state"] == "done"
        assert other["study"]["session"] != s1["session"]
    finally:
        server.close()
    from talkinghead.study.report import study_report

    rep = study_report(d, n_boot=2000)
    n_ab = st.settings["n_items"]["ab"]
    assert n_ab == len(CLIPS) and rep["n_raters"] == 2 and rep["n_sessions"] == 2
    # the eye rater always found the bright system: preference 1.0 (blind to the names)
    assert rep["ab"]["by_rater"]["eye-rater"]["rate"] == 1.0
    bright_left = sum(1 for it in st.items
                      if it["kind"] == "ab" and it["media"][0]["system"] == "bright")  # fmt: skip
    assert rep["ab"]["by_rater"]["lefty"]["rate"] == bright_left / n_ab
    # MOS: eye rater 5 (bright) / 1 (dark); lefty 3 everywhere -> 4.0 and 2.0
    assert rep["mos"]["bright"]["mean"] == 4.0 and rep["mos"]["dark"]["mean"] == 2.0
    lines = (d / "answers.jsonl").read_text().splitlines()
    assert len(lines) == 2 * n and all(json.loads(x)["rt_ms"] >= 0 for x in lines)
