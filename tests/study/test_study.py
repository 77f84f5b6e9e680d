"""`study make` / the study API / `study report` on two systems' videos of real clips."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from study_videos import CLIPS  # noqa: E402  (tests/study is on sys.path)

from talkinghead.errors import InvalidArgumentError
from talkinghead.study.manifest import load_study, make_study
from talkinghead.study.report import report_markdown, study_report
from talkinghead.study.store import append_jsonl, read_jsonl


def test_make_is_blinded_seeded_and_counterbalanced(two_systems, tmp_path):
    st = make_study(tmp_path / "s", two_systems, seed=3, ab_repeats=2)
    assert st.systems == ["bright", "dark"]
    ab = [it for it in st.items if it["kind"] == "ab"]
    mos = [it for it in st.items if it["kind"] == "mos"]
    assert len(ab) == 2 * len(CLIPS) and len(mos) == 2 * len(CLIPS)
    # every clip is shown once with each system on the left (ab_repeats=2)
    for c in CLIPS:
        lefts = sorted(it["media"][0]["system"] for it in ab if it["clip"] == c)
        assert lefts == ["bright", "dark"]
    # served names: random hex tokens, no system or clip name in them; hard links or copies
    files = sorted(p.name for p in (tmp_path / "s" / "media").iterdir())
    assert len(files) == 2 * len(CLIPS)
    for f in files:
        stem = f.removesuffix(".mp4")
        assert len(stem) == 16 and all(ch in "0123456789abcdef" for ch in stem)
        assert not any(w in f for w in ("bright", "dark", *CLIPS))
    # the same seed gives the same study; another seed another one
    again = make_study(tmp_path / "s2", two_systems, seed=3, ab_repeats=2)
    assert again.items == st.items
    other = make_study(tmp_path / "s3", two_systems, seed=4, ab_repeats=2)
    assert other.items != st.items
    assert load_study(tmp_path / "s").items == st.items


def test_make_counterbalances_single_pairs(two_systems, tmp_path):
    st = make_study(tmp_path / "s", two_systems, clips=list(CLIPS), mos=False, seed=0)
    lefts = [it["media"][0]["system"] for it in st.items]
    assert sorted(lefts) == ["bright", "bright", "dark", "dark"]  # 4 clips: 2 and 2


def test_make_rejects_bad_input(two_systems, tmp_path):
    with pytest.raises(InvalidArgumentError, match="clips="):
        make_study(tmp_path / "a", two_systems, clips=["nope"])
    with pytest.raises(InvalidArgumentError, match="systems="):
        make_study(tmp_path / "b", {"x": two_systems["bright"]})
    make_study(tmp_path / "c", two_systems)
    with pytest.raises(InvalidArgumentError, match="must not hold a study"):
        make_study(tmp_path / "c", two_systems)
    with pytest.raises(InvalidArgumentError, match="at least one kind"):
        make_study(tmp_path / "d", two_systems, ab=False, mos=False)


def test_store_skips_a_torn_line(tmp_path):
    p = tmp_path / "a.jsonl"
    append_jsonl(p, {"x": 1})
    append_jsonl(p, {"x": 2})
    with open(p, "a") as f:
        f.write('{"x": 3')  # a crash in the middle of a write
    assert read_jsonl(p) == [{"x": 1}, {"x": 2}]


def _client(study_dir):
    pytest.importorskip("fastapi", reason="the serve extra (fastapi) is not installed")
    pytest.importorskip("httpx", reason="httpx is not installed")
    from fastapi.testclient import TestClient

    from talkinghead.study.server import create_study_app

    # an address, as a browser sends it (the Host check refuses unknown names)
    return TestClient(create_study_app(study_dir), base_url="http://127.0.0.1:8010")


def test_other_sites_cannot_use_the_study(two_systems, tmp_path):
    make_study(tmp_path / "s", two_systems, seed=1)
    c = _client(tmp_path / "s")
    evil = {"Origin": "http://evil.example"}
    assert c.post("/api/sessions", json={"rater": "r1"}, headers=evil).status_code == 403
    assert c.get("/", headers={"Host": "rebound.evil.example:8010"}).status_code == 403
    own = {"Origin": "http://127.0.0.1:8010"}
    assert c.post("/api/sessions", json={"rater": "r1"}, headers=own).status_code == 200


def test_api_sessions_answers_resume_and_report(two_systems, tmp_path):
    st = make_study(tmp_path / "s", two_systems, seed=1)
    c = _client(tmp_path / "s")
    assert "Talking-head listening test" in c.get("/").text
    assert c.post("/api/sessions", json={"rater": ""}).status_code == 400
    p = c.post("/api/sessions", json={"rater": "r1"}).json()
    sid, total = p["session"], p["total"]
    assert total == len(st.items) and p["answered"] == 0
    # the served item names no system; its media are served, others are not
    nxt = p["next"]
    assert set(nxt) == {"item", "kind", "question", "media", "position"}
    assert "bright" not in json.dumps(nxt) and "dark" not in json.dumps(nxt)
    assert c.get(nxt["media"][0]).status_code == 200
    assert c.get("/media/../study.json").status_code == 404
    assert c.get("/media/manifest.jsonl").status_code == 404
    # the rater prefers the bright system and gives it 5, the dark one 2
    items = {it["item"]: it for it in st.items}
    seen = []
    for _ in range(total):
        it = items[nxt["item"]]
        assert nxt["kind"] == it["kind"] and nxt["kind"] in ("ab", "mos")
        if nxt["kind"] == "ab":
            resp = "A" if it["media"][0]["system"] == "bright" else "B"
            bad = c.post("/api/answers", json={"session": sid, "item": nxt["item"], "response": 3})
            assert bad.status_code == 400
        else:
            resp = 5 if it["media"][0]["system"] == "bright" else 2
        seen.append(nxt["kind"])
        r = c.post("/api/answers", json={"session": sid, "item": nxt["item"], "response": resp})
        assert r.status_code == 200, r.text
        if len(seen) == 3:  # the same item twice is refused; a reload resumes
            again = c.post("/api/answers", json={"session": sid, "item": nxt["item"],
                                                  "response": resp})  # fmt: skip
            assert again.status_code == 409
            assert c.get(f"/api/sessions/{sid}").json()["answered"] == 3
        nxt = r.json()["next"]
    assert nxt is None and seen == sorted(seen)  # A/B block first, then MOS
    assert c.get("/api/sessions/" + "0" * 32).status_code == 404
    # a restarted server resumes: the session is known and complete
    c2 = _client(tmp_path / "s")
    assert c2.get(f"/api/sessions/{sid}").json() == {**c.get(f"/api/sessions/{sid}").json()}
    assert c2.get(f"/api/sessions/{sid}").json()["answered"] == total
    # a second rater answers "A" (left) every time and 3 everywhere
    p = c.post("/api/sessions", json={"rater": "r2"}).json()
    nxt = p["next"]
    while nxt is not None:
        resp = "A" if nxt["kind"] == "ab" else 3
        nxt = c.post("/api/answers", json={"session": p["session"], "item": nxt["item"],
                                           "response": resp}).json()["next"]  # fmt: skip
    rep = study_report(tmp_path / "s", n_boot=2000)
    ab = rep["ab"]
    n_ab = st.settings["n_items"]["ab"]
    bright_left = sum(1 for it in st.items if it["kind"] == "ab"
                      and it["media"][0]["system"] == "bright")  # fmt: skip
    assert ab["n"] == 2 * n_ab and rep["n_raters"] == 2 and rep["n_sessions"] == 2
    assert ab["by_rater"]["r1"]["rate"] == 1.0
    assert ab["by_rater"]["r2"]["rate"] == bright_left / n_ab
    assert ab["wins"]["bright"] == n_ab + bright_left
    from talkinghead.study.stats import binomial_test, wilson_interval

    assert ab["ci"] == pytest.approx(list(wilson_interval(n_ab + bright_left, 2 * n_ab)))
    assert ab["p_value"] == pytest.approx(binomial_test(n_ab + bright_left, 2 * n_ab))
    # MOS: bright = four 5s and four 3s -> 4.0; dark = four 2s and four 3s -> 2.5
    assert rep["mos"]["bright"]["mean"] == 4.0 and rep["mos"]["bright"]["n"] == 8
    assert rep["mos"]["dark"]["mean"] == 2.5
    assert rep["mos"]["dark"]["histogram"] == [0, 4, 4, 0, 0]
    lo, hi = rep["mos"]["bright"]["t_ci"]
    assert lo < 4.0 < hi
    md = report_markdown(rep)
    assert "bright preferred" in md and "| bright | 8 | 4.00 |" in md


def test_cli_make_and_report(two_systems, tmp_path, capsys):
    from talkinghead.cli import main

    d = tmp_path / "s"
    rc = main(["study", "make", str(d), "--system", f"bright={two_systems['bright']}",
               "--system", f"dark={two_systems['dark']}", "--clips", *CLIPS[:2],
               "--seed", "5"])  # fmt: skip
    assert rc == 0
    out = capsys.readouterr().out
    assert "2 A/B pairs, 4 MOS items (seed 5)" in out
    st = load_study(d)
    sess = {"session": "a" * 32, "rater": "x", "created": 0.0}
    append_jsonl(d / "sessions.jsonl", sess)
    for it in st.items:
        resp = "B" if it["kind"] == "ab" else 4
        append_jsonl(d / "answers.jsonl", {"session": sess["session"], "rater": "x",
                                           "item": it["item"], "response": resp})  # fmt: skip
    rc = main(["study", "report", str(d), "--json", str(tmp_path / "r.json"),
               "--md", str(tmp_path / "r.md")])  # fmt: skip
    assert rc == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["ab"]["n"] == 2 and rep["mos"]["dark"]["mean"] == 4.0
    assert (tmp_path / "r.md").read_text().startswith("# Perceptual study: bright vs dark")
    # bad input: one line, exit 2
    rc = main(["study", "make", str(tmp_path / "t"), "--system", f"a={two_systems['bright']}"])
    assert rc == 2 and "talkinghead: error: --system=" in capsys.readouterr().err


def test_parsing_study_imports_nothing_heavy():
    code = (
        "import sys, talkinghead.cli as c; p = c.build_parser(); "
        "p.parse_args(['study', 'report', 'x']); "
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'numpy', 'torch', 'scipy', "
        "'talkinghead.study.server', 'talkinghead.study.report') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "fastapi" not in out.stdout and "talkinghead.study" not in out.stdout, out.stdout
