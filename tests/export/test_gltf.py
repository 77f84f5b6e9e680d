from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import struct
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from talkinghead.errors import InvalidArgumentError
from talkinghead.export.gltf import build_glb, rotvec_to_quaternion, write_glb
from talkinghead.face.head3d import DEFAULT_HEAD_PATH, BlendshapeAnimation, load_head_model

JS = Path(__file__).resolve().parent / "js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def parse_glb(data: bytes) -> tuple[dict, bytes]:
    magic, version, total = struct.unpack_from("<4sII", data, 0)
    assert (magic, version, total) == (b"glTF", 2, len(data))
    jlen, jtype = struct.unpack_from("<I4s", data, 12)
    assert jtype == b"JSON" and jlen % 4 == 0
    doc = json.loads(data[20 : 20 + jlen])
    blen, btype = struct.unpack_from("<I4s", data, 20 + jlen)
    assert btype == b"BIN\0" and blen % 4 == 0
    return doc, data[28 + jlen : 28 + jlen + blen]


def read_accessor(doc: dict, binary: bytes, i: int) -> np.ndarray:
    acc = doc["accessors"][i]
    view = doc["bufferViews"][acc["bufferView"]]
    dtype = {5126: np.float32, 5123: np.uint16, 5125: np.uint32}[acc["componentType"]]
    width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[acc["type"]]
    a = np.frombuffer(binary, dtype, acc["count"] * width, view["byteOffset"])
    return a.reshape(acc["count"], width) if width > 1 else a


@pytest.fixture(params=["grid", "shipped"])
def model(request, grid_model):
    if request.param == "grid":
        return grid_model
    if not DEFAULT_HEAD_PATH.is_file():
        pytest.skip(f"shipped head model {DEFAULT_HEAD_PATH} not built yet")
    return load_head_model()


def test_quaternions():
    q = rotvec_to_quaternion([[0, 0, 0], [np.pi / 2, 0, 0], [0, 0, np.pi]])
    np.testing.assert_allclose(q[0], [0, 0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(q[1], [np.sqrt(0.5), 0, 0, np.sqrt(0.5)], atol=1e-12)
    np.testing.assert_allclose(np.abs(q[2]), [0, 0, 1, 0], atol=1e-12)
    # hemisphere continuity along a path through 180 degrees
    path = rotvec_to_quaternion(np.linspace([0, 3.0, 0], [0, 3.3, 0], 5) * [1, 1, 1])
    assert (np.einsum("ij,ij->i", path[1:], path[:-1]) > 0).all()


def test_glb_structure(model, anim):
    doc, binary = parse_glb(build_glb(model, anim))
    prim = doc["meshes"][0]["primitives"][0]
    assert len(prim["targets"]) == 52
    assert doc["meshes"][0]["extras"]["targetNames"] == list(model.names)
    assert doc["meshes"][0]["weights"] == [0.0] * 52
    pos = read_accessor(doc, binary, prim["attributes"]["POSITION"])
    np.testing.assert_array_equal(pos, model.neutral)
    idx = read_accessor(doc, binary, prim["indices"]).reshape(-1, 3)
    np.testing.assert_array_equal(idx, model.faces)
    d17 = read_accessor(doc, binary, prim["targets"][17]["POSITION"])
    np.testing.assert_array_equal(d17, model.deltas[17])
    nrm = read_accessor(doc, binary, prim["attributes"]["NORMAL"])
    np.testing.assert_allclose(np.linalg.norm(nrm, axis=1), 1.0, atol=1e-5)
    (clip,) = doc["animations"]
    paths = {c["target"]["path"] for c in clip["channels"]}
    assert paths == {"weights", "rotation"}
    t = read_accessor(doc, binary, clip["samplers"][0]["input"])
    np.testing.assert_allclose(t, np.arange(anim.n_frames) / anim.fps, atol=1e-6)
    w = read_accessor(doc, binary, clip["samplers"][0]["output"]).reshape(anim.n_frames, 52)
    np.testing.assert_array_equal(w, anim.weights)
    q = read_accessor(doc, binary, clip["samplers"][1]["output"])
    np.testing.assert_allclose(
        np.abs(np.sum(q * rotvec_to_quaternion(anim.rotation), 1)), 1, atol=1e-6
    )


def test_glb_translation_and_errors(tmp_path, grid_model, anim):
    a = BlendshapeAnimation(
        fps=anim.fps, weights=anim.weights, rotation=anim.rotation,
        translation=np.zeros((anim.n_frames, 3)),
    )  # fmt: skip
    doc, _ = parse_glb(write_glb(tmp_path / "t.glb", grid_model, a, start=0.5).read_bytes())
    clip = doc["animations"][0]
    assert {c["target"]["path"] for c in clip["channels"]} == {"weights", "rotation", "translation"}
    assert doc["accessors"][clip["samplers"][0]["input"]]["min"] == [0.5]
    bad = BlendshapeAnimation(fps=25, weights=np.zeros((3, 1)), names=("viseme_aa",))
    with pytest.raises(InvalidArgumentError, match="blendshapes of the model"):
        build_glb(grid_model, bad)


# --------------------------------------------------------------------------- node tools
@functools.cache
def _node_modules() -> str | None:
    """Install tests/export/js/node_modules when missing; return a skip reason or None."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm not installed (apt-get install nodejs npm)"
    mods = JS / "node_modules"
    if not all((mods / p).is_dir() for p in ("gltf-validator", "three", "playwright-core")):
        cmd = ["npm", "ci", "--no-audit", "--no-fund"]
        if not (JS / "package-lock.json").is_file():
            cmd[1] = "install"
        r = subprocess.run(cmd, cwd=JS, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            return f"npm could not install tests/export/js/package.json: {r.stderr[-300:]}"
    return None


def _need_node():
    reason = _node_modules()
    if reason:
        pytest.skip(reason)


def test_khronos_validator(tmp_path, model, anim):
    _need_node()
    p = write_glb(tmp_path / "head.glb", model, anim)
    r = subprocess.run(
        ["node", str(JS / "validate.mjs"), str(p)], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    issues = report["issues"]
    assert issues["numErrors"] == 0, issues["messages"]
    assert issues["numWarnings"] == 0, issues["messages"]
    assert report["info"]["animationCount"] == 1 and report["info"]["hasMorphTargets"]


class _Handler(http.server.SimpleHTTPRequestHandler):
    glb: Path

    def translate_path(self, path):
        if path.split("?")[0] == "/model.glb":
            return str(self.glb)
        return super().translate_path(path)

    def log_message(self, *args):
        pass


def test_threejs_loads_in_headless_chromium(tmp_path, model, anim):
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium, or set CHROMIUM)")
    _need_node()
    glb = write_glb(tmp_path / "head.glb", model, anim)
    handler = functools.partial(type("H", (_Handler,), {"glb": glb}), directory=str(JS))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/page.html?file=model.glb"
        shot = tmp_path / "frame.png"
        r = subprocess.run(
            ["node", str(JS / "browser_check.mjs"), url, str(shot)],
            capture_output=True, text=True, timeout=180,
            env={**os.environ, "CHROMIUM": CHROMIUM},
        )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(r.stdout)
    assert res["ok"], res
    assert res["morphTargets"] == 52 and res["targetNames"] == 52
    assert res["clips"] == 1
    assert res["clipDuration"] == pytest.approx((anim.n_frames - 1) / anim.fps, abs=1e-4)
    assert sorted(res["tracks"]) == ["head.morphTargetInfluences", "head.quaternion"]
    assert not [m for m in res["console"] if m.startswith(("error", "pageerror"))]
    # the head covers the centre of the frame (not the background colour 0x223344)
    assert res["centrePixel"][:3] != [0x22, 0x33, 0x44]
    assert shot.stat().st_size > 1000
