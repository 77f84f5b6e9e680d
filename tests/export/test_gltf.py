from __future__ import annotations

import functools
import http.server
import json
import os
import struct
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from node_tools import node_modules_skip_reason  # noqa: E402  (tests/ is on sys.path)
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


_DTYPES = {5126: np.float32, 5123: np.uint16, 5125: np.uint32}


def read_accessor(doc: dict, binary: bytes, i: int) -> np.ndarray:
    """An accessor's values as the glTF 2.0 spec defines them (sparse ones included: a
    base of zeros without a bufferView, then the sparse values at their indices)."""
    acc = doc["accessors"][i]
    dtype = _DTYPES[acc["componentType"]]
    width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[acc["type"]]
    if "bufferView" in acc:
        view = doc["bufferViews"][acc["bufferView"]]
        a = np.frombuffer(binary, dtype, acc["count"] * width, view["byteOffset"]).copy()
    else:
        a = np.zeros(acc["count"] * width, dtype)
    a = a.reshape(acc["count"], width)
    if "sparse" in acc:
        sp = acc["sparse"]
        iv = doc["bufferViews"][sp["indices"]["bufferView"]]
        idx = np.frombuffer(binary, _DTYPES[sp["indices"]["componentType"]], sp["count"],
                            iv["byteOffset"])  # fmt: skip
        assert (np.diff(idx.astype(np.int64)) > 0).all()  # strictly increasing (the spec)
        vv = doc["bufferViews"][sp["values"]["bufferView"]]
        a[idx] = np.frombuffer(binary, dtype, sp["count"] * width, vv["byteOffset"]).reshape(
            -1, width
        )
    return a if width > 1 else a[:, 0]


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


def test_sparse_morph_targets_are_lossless_and_smaller(model, anim):
    dense = build_glb(model, anim, sparse=False)
    sparse = build_glb(model, anim)  # the default
    dd, db = parse_glb(dense)
    sd, sb = parse_glb(sparse)
    for k in range(52):
        a = read_accessor(sd, sb, sd["meshes"][0]["primitives"][0]["targets"][k]["POSITION"])
        np.testing.assert_array_equal(a, model.deltas[k].astype(np.float32))
    assert "sparse" in sd["accessors"][sd["meshes"][0]["primitives"][0]["targets"][0]["POSITION"]]
    if len(model.neutral) > 1000:  # the shipped head: its targets move ~14 % of the vertices
        assert len(sparse) < 0.45 * len(dense), (len(sparse), len(dense))


def test_animation_only_glb_and_audio_sidecar(tmp_path, anim):
    from talkinghead.export.retarget import retarget_animation

    rpm = retarget_animation(anim, "vrm")
    audio = tmp_path / "sub" / "speech.wav"
    p = write_glb(tmp_path / "vrm.glb", None, rpm, animation_only=True, audio=audio)
    doc, binary = parse_glb(p.read_bytes())
    mesh = doc["meshes"][0]
    assert mesh["extras"]["targetNames"] == list(rpm.names)
    assert doc["animations"][0]["extras"]["targetNames"] == list(rpm.names)
    assert doc["animations"][0]["extras"]["audio"] == {"uri": "sub/speech.wav", "start": 0.0}
    prim = mesh["primitives"][0]
    assert read_accessor(doc, binary, prim["attributes"]["POSITION"]).shape == (3, 3)
    clip = doc["animations"][0]
    w = read_accessor(doc, binary, clip["samplers"][0]["output"]).reshape(anim.n_frames, -1)
    np.testing.assert_array_equal(w, rpm.weights)
    assert p.stat().st_size < 20_000  # no head: only the animation


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
def _need_node():
    reason = node_modules_skip_reason()
    if reason:
        pytest.skip(reason)


@pytest.mark.parametrize("kind", ["sparse", "dense", "animation-only"])
def test_khronos_validator(tmp_path, model, anim, kind):
    _need_node()
    if kind == "animation-only":
        from talkinghead.export.retarget import retarget_animation

        p = write_glb(tmp_path / "a.glb", None, retarget_animation(anim, "rpm"),
                      animation_only=True, audio=tmp_path / "speech.wav")  # fmt: skip
    else:
        p = write_glb(tmp_path / "head.glb", model, anim, sparse=kind == "sparse")
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


def test_threejs_binds_the_animation_by_name_onto_another_avatar(tmp_path, anim):
    """three.js (GLTFLoader + AnimationMixer under node) plays our animation-only glb on
    a differently named mesh whose morph targets are in another order."""
    _need_node()
    from talkinghead.export import export

    p = export("glb", tmp_path / "rpm.glb", anim=anim, retarget="rpm")
    frames = [0, 7, 33, anim.n_frames - 1]
    times = [str(k / anim.fps) for k in frames]
    r = subprocess.run(
        ["node", str(JS / "bind_check.mjs"), str(p), *times],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(r.stdout)
    from talkinghead.export.retarget import retarget_animation

    want = retarget_animation(anim, "rpm")
    assert res["targetNames"] == list(want.names)  # names survive the round trip
    assert res["avatarOrder"][0] == want.names[-1]  # the avatar's order differs
    assert res["bound"] == len(want.names)
    for k, s in zip(frames, res["samples"], strict=True):
        got = np.array([s["values"][n] for n in want.names])
        np.testing.assert_allclose(got, want.weights[k], atol=1e-5)  # float32 key times
        assert s["values"]["avatarOnlyShape"] == 0  # shapes we do not drive stay at rest
    # unchanged, the clip does not reach the avatar (glTF binds by node name and index)
    assert not any(res["unboundWithoutRemap"])
