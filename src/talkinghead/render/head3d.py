"""Render a :class:`~talkinghead.face.head3d.HeadModel` driven by a BlendshapeAnimation.

Two backends:

``"gl"``
    OpenGL 3.3 through ``moderngl`` on a headless EGL context (Mesa llvmpipe on a CPU-only
    machine): per-pixel skin lighting (:func:`shade`: hemisphere ambient, wrap-around key
    with a sub-surface band, fill, Fresnel sheen), 4x multisampling.
``"cpu"``
    Pure numpy + OpenCV painter's algorithm: back-face culling, triangles sorted far to
    near, the same skin lighting (:func:`shade`) per triangle, ``cv2.fillConvexPoly``.

``backend="auto"`` uses GL when ``moderngl`` and an EGL driver are available and falls
back to the CPU rasteriser otherwise.

The camera is a fixed perspective camera on the ``+z`` axis looking at the face (the
model is posed by the animation's rotation/translation); the background is a flat grey.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import DependencyError, InvalidArgumentError
from ..face.head3d import BlendshapeAnimation, HeadModel, load_head_model, vertex_normals

__all__ = [
    "HeadRenderer",
    "gl_available",
    "render_head_frames",
    "render_head_video",
    "weights_for_model",
]

BACKGROUND = (0.55, 0.58, 0.62)
LIGHT_DIR = np.array([-0.35, 0.45, 0.82])  # toward the light: upper, viewer's left, front
FILL_DIR = np.array([0.6, 0.1, 0.8])  # a weaker fill from the viewer's right
#: Skin lighting (:func:`shade`, the same in the GL shader): hemisphere ambient (cool sky
#: above, warm bounce below), a warm key with wrap-around diffuse, a cool fill, the red
#: sub-surface band where the key light turns away, a weak sheen.
SKY = (0.40, 0.41, 0.44)
GROUND = (0.33, 0.29, 0.27)
KEY = (0.66, 0.62, 0.57)
FILL = (0.10, 0.11, 0.13)
SCATTER = (0.20, 0.04, 0.02)
WRAP = 0.35
SPEC = 0.07
#: Metres from the camera to the face: a portrait distance (an ~85 mm lens on full frame).
#: Closer cameras exaggerate perspective: the head's mean face is the *tracked* mean of real
#: videos, whose perspective is already in it; at 1.5 m its projected 68 points are within
#: 1.3 % of the eye distance of the 2D sketch's neutral face on average (2.7 % at 0.6 m).
CAMERA_DISTANCE = 1.5

_GL_STATE: dict[str, object] = {}


def gl_available() -> bool:
    """True when a headless moderngl/EGL context can be created (result cached)."""
    if "ok" not in _GL_STATE:
        try:
            _gl_context()
            _GL_STATE["ok"] = True
        except Exception:  # noqa: BLE001 - any failure means "no GL here"
            _GL_STATE["ok"] = False
    return bool(_GL_STATE["ok"])


def _gl_context():
    ctx = _GL_STATE.get("ctx")
    if ctx is None:
        try:
            import moderngl
        except ImportError as exc:
            raise DependencyError(
                "the 'gl' backend needs moderngl (pip install moderngl) and Mesa EGL "
                "(apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri)"
            ) from exc
        ctx = moderngl.create_standalone_context(backend="egl")
        _GL_STATE["ctx"] = ctx
    return ctx


_VERT = """
#version 330
uniform mat4 mvp;
in vec3 in_pos;
in vec3 in_normal;
in vec3 in_color;
out vec3 v_normal;
out vec3 v_color;
out vec3 v_pos;
void main() {
    gl_Position = mvp * vec4(in_pos, 1.0);
    v_normal = in_normal;
    v_color = in_color;
    v_pos = in_pos;
}
"""

_FRAG = """
#version 330
uniform vec3 light_dir;
uniform vec3 fill_dir;
uniform vec3 eye_pos;
in vec3 v_normal;
in vec3 v_color;
in vec3 v_pos;
out vec4 f_color;
void main() {
    vec3 n = normalize(v_normal);
    vec3 view = normalize(eye_pos - v_pos);
    if (dot(n, view) < 0.0) n = -n;
    float d = dot(n, light_dir);
    float wrap = max((d + WRAP) / (1.0 + WRAP), 0.0);
    float lam = max(d, 0.0);
    vec3 sky = mix(GROUND, SKY, 0.5 + 0.5 * n.y);
    vec3 light = sky + KEY * wrap + FILL * max(dot(n, fill_dir), 0.0);
    light += SCATTER * wrap * (1.0 - lam);
    vec3 h = normalize(light_dir + view);
    float fres = 0.04 + 0.96 * pow(1.0 - max(dot(n, view), 0.0), 5.0);
    float spec = pow(max(dot(n, h), 0.0), 36.0) * SPEC * (0.5 + fres) * lam;
    vec3 c = v_color * light + vec3(spec);
    f_color = vec4(clamp(c, 0.0, 1.0), 1.0);
}
"""


def _glsl_frag() -> str:
    """The fragment shader with the lighting constants of :func:`shade` filled in."""
    vec = "vec3({:.4f}, {:.4f}, {:.4f})".format
    src = _FRAG
    for name, val in (("GROUND", vec(*GROUND)), ("SKY", vec(*SKY)), ("KEY", vec(*KEY)),
                      ("FILL", vec(*FILL)), ("SCATTER", vec(*SCATTER)),
                      ("WRAP", f"{WRAP:.4f}"), ("SPEC", f"{SPEC:.4f}")):  # fmt: skip
        src = src.replace(name, val)
    return src


def shade(
    normals: np.ndarray, colors: np.ndarray, view: np.ndarray, light: np.ndarray
) -> np.ndarray:
    """Skin lighting (the GL shader's, for the CPU backend): colours (N, 3) in [0, 1].

    A warm key light with wrap-around diffuse and a red sub-surface band at the
    terminator (light scattered under the skin), a cool fill from the viewer's right, a
    sky / ground hemisphere for the ambient, and a weak Fresnel-weighted Blinn-Phong
    sheen.

    Parameters
    ----------
    normals, view : ndarray, shape (N, 3)
        Unit normals (flipped toward the viewer here) and unit directions to the eye.
    colors : ndarray, shape (N, 3)
        Albedo.
    light : ndarray, shape (3,)
        Unit direction toward the key light.
    """
    n = np.where((np.einsum("ij,ij->i", normals, view) < 0)[:, None], -normals, normals)
    d = n @ light
    wrap = np.clip((d + WRAP) / (1 + WRAP), 0, None)
    lam = np.clip(d, 0, None)
    t = (0.5 + 0.5 * n[:, 1])[:, None]
    fill = FILL_DIR / np.linalg.norm(FILL_DIR)
    lit = (np.asarray(GROUND) * (1 - t) + np.asarray(SKY) * t + np.asarray(KEY) * wrap[:, None]
           + np.asarray(FILL) * np.clip(n @ fill, 0, None)[:, None]
           + np.asarray(SCATTER) * (wrap * (1 - lam))[:, None])  # fmt: skip
    h = light[None] + view
    h /= np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-12)
    fres = 0.04 + 0.96 * (1 - np.clip(np.einsum("ij,ij->i", n, view), 0, None)) ** 5
    spec = np.clip(np.einsum("ij,ij->i", n, h), 0, None) ** 36 * SPEC * (0.5 + fres) * lam
    return np.clip(colors * lit + spec[:, None], 0, 1)


class HeadRenderer:
    """Renders posed frames of one model at one size.

    Parameters
    ----------
    model : HeadModel, optional
        Defaults to :func:`~talkinghead.face.head3d.load_head_model`.
    size : int
        Output images are ``(size, size, 3)`` RGB uint8.
    backend : {"auto", "gl", "cpu"}
    """

    def __init__(self, model: HeadModel | None = None, *, size: int = 512, backend: str = "auto"):
        if backend not in ("auto", "gl", "cpu"):
            raise InvalidArgumentError(f"backend={backend!r} must be 'auto', 'gl' or 'cpu'")
        if not isinstance(size, int | np.integer) or not 16 <= int(size) <= 4096:
            raise InvalidArgumentError(f"size={size!r} must be an int in [16, 4096]")
        self.model = model if model is not None else load_head_model()
        self.size = int(size)
        if backend == "auto":
            backend = "gl" if gl_available() else "cpu"
        self.backend = backend
        m = self.model
        fm = m.neutral[: min(468, m.n_vertices)]
        centre = 0.5 * (fm.min(0) + fm.max(0))
        height = float(fm[:, 1].max() - fm[:, 1].min())
        # camera on +z looking a little below the face centre; the face spans ~52 % of the
        # frame height (hair above, neck and the shoulders' slope below)
        self.target = np.array([0.0, centre[1] - 0.09 * height, centre[2]], np.float64)
        self.distance = CAMERA_DISTANCE
        self.focal = self.size * self.distance * 0.52 / max(height, 1e-6)  # pixels
        self.eye = self.target + np.array([0.0, 0.0, self.distance])
        self.colors = (
            m.colors if m.colors is not None else np.full((m.n_vertices, 3), 0.8, np.float32)
        )
        self.light = (LIGHT_DIR / np.linalg.norm(LIGHT_DIR)).astype(np.float32)
        self._gl = None
        if backend == "gl":
            self._init_gl()

    # ------------------------------------------------------------------ geometry
    def posed_vertices(self, weights, rotation=None, translation=None) -> np.ndarray:
        """Model-space vertices (V, 3) float32 for one frame."""
        return self.model.pose(weights, rotation, translation)

    def project(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates (V, 2) (x right, y down) and view depth (V,) (larger = farther)."""
        rel = np.asarray(v, np.float64) - self.eye
        depth = -rel[:, 2]
        depth = np.maximum(depth, 1e-4)
        px = self.size / 2 + self.focal * rel[:, 0] / depth
        py = self.size / 2 - self.focal * rel[:, 1] / depth
        return np.stack([px, py], 1), depth

    def _mvp(self) -> np.ndarray:
        s = self.size
        near, far = 0.05, 5.0
        fy = 2.0 * self.focal / s
        proj = np.array(
            [
                [fy, 0, 0, 0],
                [0, fy, 0, 0],
                [0, 0, (far + near) / (near - far), 2 * far * near / (near - far)],
                [0, 0, -1, 0],
            ]
        )
        view = np.eye(4)
        view[:3, 3] = -self.eye
        return proj @ view

    # ------------------------------------------------------------------ backends
    def _init_gl(self) -> None:
        ctx = _gl_context()
        prog = ctx.program(vertex_shader=_VERT, fragment_shader=_glsl_frag())
        prog["mvp"].write(self._mvp().T.astype("f4").tobytes())
        prog["light_dir"].value = tuple(float(x) for x in self.light)
        fill = FILL_DIR / np.linalg.norm(FILL_DIR)
        prog["fill_dir"].value = tuple(float(x) for x in fill)
        prog["eye_pos"].value = tuple(float(x) for x in self.eye)
        nv = self.model.n_vertices
        vbo_pos = ctx.buffer(reserve=nv * 12)
        vbo_nrm = ctx.buffer(reserve=nv * 12)
        vbo_col = ctx.buffer(self.colors.astype("f4").tobytes())
        ibo = ctx.buffer(self.model.faces.astype("i4").tobytes())
        vao = ctx.vertex_array(
            prog,
            [(vbo_pos, "3f", "in_pos"), (vbo_nrm, "3f", "in_normal"), (vbo_col, "3f", "in_color")],
            index_buffer=ibo,
        )
        s = self.size
        fbo_ms = ctx.framebuffer(
            color_attachments=[ctx.renderbuffer((s, s), 4, samples=4)],
            depth_attachment=ctx.depth_renderbuffer((s, s), samples=4),
        )
        fbo = ctx.framebuffer(color_attachments=[ctx.renderbuffer((s, s), 3)])
        self._gl = {"ctx": ctx, "vao": vao, "pos": vbo_pos, "nrm": vbo_nrm, "ms": fbo_ms,
                    "fbo": fbo, "prog": prog}  # fmt: skip

    def _render_gl(self, v: np.ndarray) -> np.ndarray:
        import moderngl

        g = self._gl
        ctx = g["ctx"]
        g["pos"].write(np.ascontiguousarray(v, "f4").tobytes())
        g["nrm"].write(vertex_normals(v, self.model.faces).tobytes())
        g["ms"].use()
        ctx.enable(moderngl.DEPTH_TEST)
        ctx.disable(moderngl.CULL_FACE)
        g["ms"].clear(*BACKGROUND, 1.0)
        g["vao"].render(moderngl.TRIANGLES)
        ctx.copy_framebuffer(g["fbo"], g["ms"])
        data = g["fbo"].read(components=3, alignment=1)
        img = np.frombuffer(data, np.uint8).reshape(self.size, self.size, 3)
        return np.ascontiguousarray(img[::-1])

    def _render_cpu(self, v: np.ndarray) -> np.ndarray:
        import cv2

        s = self.size
        img = np.empty((s, s, 3), np.uint8)
        img[:] = (np.array(BACKGROUND) * 255).astype(np.uint8)
        f = self.model.faces
        xy, depth = self.project(v)
        tri = v[f]
        fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        fn /= np.maximum(np.linalg.norm(fn, axis=1, keepdims=True), 1e-12)
        centre = tri.mean(1)
        to_eye = self.eye[None, :] - centre
        front = np.einsum("ij,ij->i", fn, to_eye) > 0
        view = to_eye / np.maximum(np.linalg.norm(to_eye, axis=1, keepdims=True), 1e-12)
        col = shade(fn, self.colors[f].mean(1), view, self.light.astype(np.float64))
        col = np.clip(col * 255.0, 0, 255).astype(np.uint8)
        order = np.nonzero(front)[0]
        order = order[np.argsort(-depth[f[order]].mean(1), kind="stable")]
        pts = np.round(xy[f] * 16).astype(np.int32)  # 4 fractional bits
        fill = cv2.fillConvexPoly
        for i in order.tolist():
            c = col[i]
            fill(img, pts[i], (int(c[0]), int(c[1]), int(c[2])), cv2.LINE_8, 4)
        return img

    # ------------------------------------------------------------------ public
    def render(self, weights, rotation=None, translation=None) -> np.ndarray:
        """One RGB frame, shape (size, size, 3) uint8."""
        v = self.posed_vertices(weights, rotation, translation)
        if self.backend == "gl":
            return self._render_gl(v)
        return self._render_cpu(v)


def render_head_frames(
    anim: BlendshapeAnimation,
    *,
    model: HeadModel | None = None,
    size: int = 512,
    backend: str = "auto",
) -> Iterator[np.ndarray]:
    """Yield one RGB frame (size, size, 3) uint8 per animation frame.

    Parameters
    ----------
    anim : BlendshapeAnimation
        Weights are matched to the model by name (missing names count as 0).
    model : HeadModel, optional
        Defaults to the shipped head.
    size : int
    backend : {"auto", "gl", "cpu"}
    """
    renderer = HeadRenderer(model, size=size, backend=backend)
    w = weights_for_model(anim, renderer.model)
    for i in range(anim.n_frames):
        t = None if anim.translation is None else anim.translation[i]
        yield renderer.render(w[i], anim.rotation[i], t)


def weights_for_model(anim: BlendshapeAnimation, model: HeadModel) -> np.ndarray:
    """``anim``'s weights in ``model``'s blendshape order, shape (T, model.n_shapes), float32
    clipped to [0, 1]; shapes the model lacks are dropped, shapes ``anim`` lacks stay 0."""
    if tuple(anim.names) == tuple(model.names):
        return np.clip(anim.weights, 0.0, 1.0)
    out = np.zeros((anim.n_frames, model.n_shapes), np.float32)
    for j, name in enumerate(anim.names):
        if name in model.names:
            out[:, model.names.index(name)] = anim.weights[:, j]
    return np.clip(out, 0.0, 1.0)


def render_head_video(
    path: str | os.PathLike,
    anim: BlendshapeAnimation,
    *,
    audio: np.ndarray | None = None,
    sr: int | None = None,
    size: int = 512,
    model: HeadModel | None = None,
    backend: str = "auto",
) -> Path:
    """Render ``anim`` to an H.264 (+ AAC when ``audio`` is given) MP4, atomically.

    Parameters
    ----------
    path : str or PathLike
    anim : BlendshapeAnimation
    audio : ndarray, shape (n,) or (channels, n), optional
    sr : int, optional
        Sample rate of ``audio``.
    size : int
    model : HeadModel, optional
    backend : {"auto", "gl", "cpu"}

    Returns
    -------
    Path
    """
    from ..video.io import write_video

    frames = render_head_frames(anim, model=model, size=size, backend=backend)
    return write_video(path, frames, fps=anim.fps, audio=audio, sr=sr)
