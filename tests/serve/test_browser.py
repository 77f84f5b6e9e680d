"""The live page in headless Chromium: fake microphone -> /ws -> the learned model's frames drawn
on the sketch and the 3D head: the mouth moves, the eyes blink, the head moves."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import soundfile as sf
from test_server import LiveServer  # noqa: E402  (tests/serve is on sys.path: rootdir discovery)

from node_tools import node_modules_skip_reason  # noqa: E402  (tests/ is on sys.path)

JS = Path(__file__).resolve().parent / "js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PLAYWRIGHT = [JS / "node_modules" / "playwright-core",
              JS.parents[1] / "export" / "js" / "node_modules" / "playwright-core"]  # fmt: skip


def test_live_page_streams_microphone(tmp_path, example_speech):
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"chromium not found at {CHROMIUM} (set CHROMIUM)")
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not any(p.is_dir() for p in PLAYWRIGHT) and (reason := node_modules_skip_reason()):
        pytest.skip(reason)
    import soxr

    from talkinghead.data import MOUTH_V2_CAUSAL_DIR

    if not (MOUTH_V2_CAUSAL_DIR / "la0" / "config.json").is_file():
        pytest.skip("the streaming mouth v2 is not shipped in this checkout")

    y, sr = sf.read(example_speech, dtype="float32")
    wav = tmp_path / "mic.wav"  # Chromium's fake capture wants 16-bit PCM; 48 kHz is safest
    sf.write(wav, soxr.resample(y, sr, 48000), 48000, subtype="PCM_16")
    server = LiveServer()
    shot = tmp_path / "live.png"
    try:
        out = subprocess.run(
            ["node", str(JS / "live_check.mjs"), server.http + "/?autostart=mic", str(wav),
             str(shot), "45000"],
            capture_output=True, text=True, timeout=90,
        )  # fmt: skip
    finally:
        server.close()
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout)
    st = res["stats"]
    assert res["ok"] and not st["errors"], res
    assert st["animator"].startswith("mouth-v2-causal") and st["state"] == "streaming"
    assert st["frames"] >= 75 and st["mouthMax"] - st["mouthMin"] > 0.05
    # the whole face: 52 blendshapes drawn on the 3D head, a blink, head motion
    assert st["nBlendshapes"] == 52 and st["headFrames"] >= 20  # the page draws the latest
    assert st["blinkMax"] > 0.5 and st["yawMax"] - st["yawMin"] > 2e-3
    assert st["pitchMax"] - st["pitchMin"] > 2e-3
    assert st["latencyP50"] is not None and 0 < st["latencyP50"] < 2000
    assert "latency" in res["text"]
    assert shot.is_file() and shot.stat().st_size > 5000
    keep = os.environ.get("TALKINGHEAD_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
