"""Build the shipped blendshape head ``src/talkinghead/data/head_model.npz``.

Reproducible from the shared real clips (``../shared/data``):

1. track frontal clips with mediapipe Face Mesh (478 points with the irises);
2. keep mouth-closed, eyes-open frames, align them (generalised Procrustes on stable
   points), average per clip then across clips, put the result in a canonical frame
   (glTF axes, outer eye corners 0.09 m apart) and make it left/right symmetric;
3. triangles = the 3-cliques of ``FACEMESH_TESSELATION`` (oriented outwards);
4. add eyeballs (+ a socket plate), a dark mouth cavity, upper/lower teeth, a tongue,
   a scalp/back-of-head shell and a neck;
5. build the 52 ARKit blendshapes as displacement fields over anatomical regions
   (jawOpen is a rotation of the lower face about a jaw hinge; blinks move the upper
   lid onto the lower lid; harmonic interpolation spreads the lid/jaw motion);
6. undo the render camera's perspective (:func:`undo_camera_perspective`): the tracked mean
   is already a camera image (x, y in the image plane), so every vertex's x, y is scaled
   about the camera axis by its depth, and the renderer's camera sees the tracked mean
   (the 2D sketch's face) instead of a second perspective on top of it.

Usage::

    python scripts/build_head_model.py [--out PATH] [--sheet contact_sheet.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from talkinghead.face.arkit import ARKIT_INDEX, ARKIT_NAMES
from talkinghead.face.geometry import similarity_fit
from talkinghead.face.head3d import HeadModel, rotation_matrix

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
OUT = REPO / "src" / "talkinghead" / "data" / "head_model.npz"

CLIPS = [
    "ali-vilab__dreamtalk/data/style_clip/video/M030_front_neutral_level1_001.mp4",
    "ali-vilab__dreamtalk/data/style_clip/video/W009_front_neutral_level1_001.mp4",
    "grid_s1/video/bbaf2n.mp4",
    "grid_s1/video/bbaf4p.mp4",
    "grid_s1/video/bbal6n.mp4",
    "OpenTalker__video-retalking/examples/face/1.mp4",
]
STABLE = [10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 33, 133, 362, 263, 234, 454, 127, 356,
          109, 338, 67, 297, 21, 251, 54, 284]  # fmt: skip
UPPER_OUTER = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291]
LOWER_OUTER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291]
UPPER_INNER = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308]
LOWER_INNER = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308]
# eyes: subject's left uses the 263 side of Face Mesh
EYE = {
    +1: {"upper": [263, 466, 388, 387, 386, 385, 384, 398, 362],
         "lower": [263, 249, 390, 373, 374, 380, 381, 382, 362], "iris": 473,
         "brow": [276, 283, 282, 295, 285, 300, 293, 334, 296, 336]},
    -1: {"upper": [33, 246, 161, 160, 159, 158, 157, 173, 133],
         "lower": [33, 7, 163, 144, 145, 153, 154, 155, 133], "iris": 468,
         "brow": [46, 53, 52, 65, 55, 70, 63, 105, 66, 107]},
}  # fmt: skip
SKIN = np.array([0.86, 0.67, 0.56])
LIP = np.array([0.70, 0.38, 0.38])
BROW = np.array([0.40, 0.29, 0.22])
HAIR = np.array([0.20, 0.14, 0.10])
CAVITY = np.array([0.22, 0.05, 0.06])
TEETH = np.array([0.94, 0.92, 0.85])
TONGUE = np.array([0.74, 0.36, 0.38])
SOCKET = np.array([0.78, 0.62, 0.58])


# ------------------------------------------------------------------ tracking + neutral
def track(path: Path, max_frames: int = 60) -> np.ndarray:
    """(N, 478, 3) meshes in pixels, glTF axes (y up, z toward the camera)."""
    import mediapipe as mp

    from talkinghead.video.io import iter_frames

    out = []
    with mp.solutions.face_mesh.FaceMesh(max_num_faces=1, refine_landmarks=True) as fm:
        for i, fr in enumerate(iter_frames(path)):
            if i >= max_frames:
                break
            h, w = fr.image.shape[:2]
            r = fm.process(fr.image)
            if r.multi_face_landmarks:
                lm = r.multi_face_landmarks[0].landmark
                out.append([(p.x * w, -p.y * h, -p.z * w) for p in lm])
    return np.asarray(out, np.float64)


def procrustes_mean(meshes: np.ndarray, idx=STABLE, iters: int = 4) -> np.ndarray:
    ref = meshes[0]
    for _ in range(iters):
        s, r, t = similarity_fit(meshes[:, idx], np.broadcast_to(ref[idx], meshes[:, idx].shape))
        aligned = s[:, None, None] * np.einsum("nij,nvj->nvi", r, meshes) + t[:, None]
        ref = aligned.mean(0)
    return ref


def canonical(m: np.ndarray) -> np.ndarray:
    x = m[263] - m[33]
    x /= np.linalg.norm(x)
    y = m[10] - m[152]
    y -= x * (x @ y)
    y /= np.linalg.norm(y)
    z = np.cross(x, y)
    rot = np.stack([x, y, z])
    out = (m - 0.5 * (m[33] + m[263])) @ rot.T
    return out * (0.09 / np.linalg.norm(out[263] - out[33]))


def symmetrise(m: np.ndarray) -> np.ndarray:
    mir = m * [-1, 1, 1]
    d = np.linalg.norm(mir[:, None] - m[None], axis=-1)
    perm = d.argmin(1)
    ok = perm[perm] == np.arange(len(m))
    out = m.copy()
    out[ok] = 0.5 * (m[ok] + mir[perm[ok]])
    out[np.abs(out[:, 0]) < 1e-4, 0] = 0.0
    return out


def build_neutral_tracked() -> np.ndarray:
    """The previous neutral: tracked mean of :data:`CLIPS` (kept for comparison)."""
    means = []
    for rel in CLIPS:
        meshes = track(DATA / rel)
        iod = np.linalg.norm(meshes[:, 33] - meshes[:, 263], axis=-1)
        mouth = np.linalg.norm(meshes[:, 13] - meshes[:, 14], axis=-1) / iod
        eye = np.linalg.norm(meshes[:, 159] - meshes[:, 145], axis=-1) / iod
        keep = (mouth <= np.quantile(mouth, 0.4)) & (eye >= np.quantile(eye, 0.3))
        means.append(canonical(procrustes_mean(meshes[keep])))
        print(f"{rel}: {len(meshes)} frames, {int(keep.sum())} neutral")
    mean = canonical(procrustes_mean(np.asarray(means)))
    return symmetrise(mean)


def build_neutral() -> np.ndarray:
    """(478, 3) neutral face: the shipped tracked mean of real faces.

    ``talkinghead/data/face_reference.npz`` ``canonical_mesh`` (468 points, built by
    ``scripts/build_face_reference.py`` from 10 clips of 10 people, lips closed): the same
    mean the 2D sketch's :func:`~talkinghead.face.normalize.neutral_face_68` projects, so
    the 3D head's 68 points match the sketch's. Converted to glTF axes (y up, z toward the
    viewer), outer eye corners 0.09 m apart, made symmetric (lips closed: the lower lip
    covers the upper teeth's edge); the 10 iris points are the eye rings' centres.
    """
    from talkinghead.face.tracking import canonical_mesh

    m = np.asarray(canonical_mesh(), np.float64) * [1.0, -1.0, -1.0]
    m = symmetrise(canonical(m))
    iris = []
    for side in (-1, +1):  # 468-472 right eye (33 side), 473-477 left eye
        e = EYE[side]
        c = m[e["upper"] + e["lower"]].mean(0)
        iris += [c] * 5
    return np.vstack([m, np.asarray(iris)])


# ------------------------------------------------------------------ topology
def tesselation_triangles(v: np.ndarray) -> np.ndarray:
    import mediapipe as mp

    edges = {tuple(sorted(e)) for e in mp.solutions.face_mesh_connections.FACEMESH_TESSELATION}
    nb: dict[int, set[int]] = {}
    for a, b in edges:
        nb.setdefault(a, set()).add(b)
        nb.setdefault(b, set()).add(a)
    tris = sorted({tuple(sorted((a, b, c))) for a, b in edges for c in nb[a] & nb[b]})
    tris = np.array(tris)
    # drop spurious cliques: an edge may belong to at most 2 triangles (keep the smallest)
    area = 0.5 * np.linalg.norm(
        np.cross(v[tris[:, 1]] - v[tris[:, 0]], v[tris[:, 2]] - v[tris[:, 0]]), axis=1
    )
    keep = np.ones(len(tris), bool)
    for _ in range(3):
        use: dict[tuple[int, int], list[int]] = {}
        for i in np.nonzero(keep)[0]:
            a, b, c = tris[i]
            for e in ((a, b), (b, c), (a, c)):
                use.setdefault(e, []).append(i)
        for ts in use.values():
            if len(ts) > 2:
                for i in sorted(ts, key=lambda k: area[k])[2:]:
                    keep[i] = False
    tris = tris[keep]
    centre = np.array([0.0, v[:, 1].mean(), v[:, 2].min() - 0.02])
    return orient_out(v, tris, centre)


def orient_out(v: np.ndarray, tris: np.ndarray, centre: np.ndarray) -> np.ndarray:
    t = v[tris]
    n = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
    flip = np.einsum("ij,ij->i", n, t.mean(1) - centre) < 0
    tris = tris.copy()
    tris[flip] = tris[flip][:, [0, 2, 1]]
    return tris


def make_consistent(v: np.ndarray, tris: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Flip triangles so every shared edge is traversed in opposite directions (BFS),
    then flip the whole component if most triangles face toward ``centre``."""
    from collections import deque

    tris = tris.copy()
    edge_tris: dict[tuple[int, int], list[int]] = {}
    for i, t in enumerate(tris):
        for k in range(3):
            edge_tris.setdefault(tuple(sorted((t[k], t[(k + 1) % 3]))), []).append(i)
    seen = np.zeros(len(tris), bool)
    for start in range(len(tris)):
        if seen[start]:
            continue
        comp, q = [start], deque([start])
        seen[start] = True
        while q:
            i = q.popleft()
            t = tris[i]
            for k in range(3):
                a, b = t[k], t[(k + 1) % 3]
                for j in edge_tris[tuple(sorted((a, b)))]:
                    if seen[j]:
                        continue
                    u = tris[j]
                    same = any(u[m] == a and u[(m + 1) % 3] == b for m in range(3))
                    if same:
                        tris[j] = u[[0, 2, 1]]
                    seen[j] = True
                    comp.append(j)
                    q.append(j)
        c = np.array(comp)
        t3 = v[tris[c]]
        n = np.cross(t3[:, 1] - t3[:, 0], t3[:, 2] - t3[:, 0])
        area = np.linalg.norm(n, axis=1)
        out = np.einsum("ij,ij->i", n, t3.mean(1) - centre)
        if (np.sign(out) * area).sum() < 0:
            tris[c] = tris[c][:, [0, 2, 1]]
    return tris


def boundary_loops(tris: np.ndarray) -> list[list[int]]:
    from collections import Counter

    cnt = Counter(
        tuple(sorted(e)) for t in tris for e in ((t[0], t[1]), (t[1], t[2]), (t[0], t[2]))
    )
    nxt: dict[int, list[int]] = {}
    for (a, b), c in cnt.items():
        if c == 1:
            nxt.setdefault(a, []).append(b)
            nxt.setdefault(b, []).append(a)
    loops, seen = [], set()
    for s in nxt:
        if s in seen:
            continue
        loop, prev, cur = [s], None, s
        seen.add(s)
        while True:
            cand = [n for n in nxt[cur] if n != prev and n not in seen]
            if not cand:
                break
            prev, cur = cur, cand[0]
            loop.append(cur)
            seen.add(cur)
        loops.append(loop)
    return sorted(loops, key=len, reverse=True)


def grid_tris(nu: int, nv: int, base: int) -> np.ndarray:
    out = []
    for j in range(nv - 1):
        for i in range(nu - 1):
            a = base + j * nu + i
            out += [(a, a + 1, a + nu + 1), (a, a + nu + 1, a + nu)]
    return np.array(out)


# ------------------------------------------------------------------ geometry builder
class Builder:
    def __init__(self, v478: np.ndarray):
        self.v = [v478[:468]]
        self.iris = v478[468:]
        self.nv = 468
        self.tris = [tesselation_triangles(v478[:468])]
        self.colors = [np.tile(SKIN, (468, 1))]
        self.groups: dict[str, np.ndarray] = {"face_mesh": np.arange(468)}
        self.jaw = [np.zeros(468)]  # jaw weight per vertex

    def add(self, name, verts, tris_local, color, jaw=0.0):
        verts = np.asarray(verts, float)
        base = self.nv
        self.v.append(verts)
        self.tris.append(np.asarray(tris_local) + base)
        col = np.asarray(color, float)
        self.colors.append(np.broadcast_to(col, (len(verts), 3)).copy() if col.ndim == 1 else col)
        self.jaw.append(np.broadcast_to(np.asarray(jaw, float), (len(verts),)).copy())
        self.groups[name] = np.arange(base, base + len(verts))
        self.nv += len(verts)
        return base


def skin_z(face: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Front-surface depth of the face mesh at (x, y) (inverse-distance, 4 neighbours)."""
    d = np.hypot(face[None, :, 0] - x[:, None], face[None, :, 1] - y[:, None])
    k = np.argsort(d, axis=1)[:, :4]
    dk = np.take_along_axis(d, k, 1) + 1e-4
    w = 1 / dk**2
    return (face[k, 2] * w).sum(1) / w.sum(1)


def uv_sphere(centre, radius, n_theta_edges, n_phi=16):
    """Sphere with its pole on +z; returns verts, tris, polar angle per vertex."""
    th = np.asarray(n_theta_edges, float)
    verts, polar = [np.array([0, 0, radius])], [0.0]
    for t in th[1:-1]:
        for k in range(n_phi):
            p = 2 * np.pi * k / n_phi
            verts.append(
                radius * np.array([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)])
            )
            polar.append(t)
    verts.append(np.array([0, 0, -radius]))
    polar.append(np.pi)
    nr = len(th) - 2
    tris = []
    for k in range(n_phi):
        tris.append((0, 1 + k, 1 + (k + 1) % n_phi))
    for r in range(nr - 1):
        a0, b0 = 1 + r * n_phi, 1 + (r + 1) * n_phi
        for k in range(n_phi):
            k1 = (k + 1) % n_phi
            tris += [(a0 + k, b0 + k, b0 + k1), (a0 + k, b0 + k1, a0 + k1)]
    last = len(verts) - 1
    a0 = 1 + (nr - 1) * n_phi
    for k in range(n_phi):
        tris.append((a0 + k, last, a0 + (k + 1) % n_phi))
    v = np.array(verts) + centre
    return v, orient_out(v, np.array(tris), np.asarray(centre)), np.array(polar)


def build_geometry(v478: np.ndarray) -> tuple[Builder, dict]:
    b = Builder(v478)
    f = v478[:468]
    info: dict = {}
    y13 = f[13, 1]
    zc_eye = 0.5 * (f[33, 2] + f[263, 2])
    # pivot / jaw hinge
    info["hinge"] = np.array([0.0, -0.035, zc_eye - 0.075])
    # ---- eyes
    for side, name in ((+1, "eye_left"), (-1, "eye_right")):
        e = EYE[side]
        ring = f[e["upper"] + e["lower"]]
        c = ring.mean(0)
        r = 0.0120
        front_z = ring[:, 2].mean() - 0.0025
        centre = np.array([c[0], c[1], front_z - r])
        theta = [0, 0.1, 0.2, 0.3, 0.42, 0.5, 0.56, 0.75, 1.0, 1.4, 1.9, 2.5, np.pi]
        verts, tris, polar = uv_sphere(centre, r, theta)
        col = np.where(
            polar[:, None] < 0.22,
            [0.05, 0.04, 0.04],
            np.where(polar[:, None] < 0.52, [0.36, 0.24, 0.14], [0.93, 0.91, 0.88]),
        )
        base = b.add(name, verts, tris, col)
        info[name + "_centre"] = centre
        info[name + "_base"] = base
        # socket plate behind the lids (covers the eye corners)
        ang = np.linspace(0, 2 * np.pi, 17)[:-1]
        w_half = 0.5 * np.ptp(ring[:, 0]) + 0.003
        h_half = 0.5 * np.ptp(ring[:, 1]) + 0.004
        pv = [np.array([c[0], c[1], front_z - 0.006])]
        for a in ang:
            pv.append([c[0] + w_half * np.cos(a), c[1] + h_half * np.sin(a), front_z - 0.0045])
        pt = np.array([(0, 1 + k, 1 + (k + 1) % 16) for k in range(16)])
        pv = np.array(pv)
        b.add(name.replace("eye", "socket"), pv, orient_out(pv, pt, pv[0] - [0, 0, 0.05]), SOCKET)
    # ---- mouth cavity (follows the skin, 16 mm inside it)
    nu, nvv = 15, 12
    xs = np.linspace(-0.034, 0.034, nu)
    ys = np.linspace(y13 - 0.042, y13 + 0.018, nvv)
    gx, gy = np.meshgrid(xs, ys)
    gz = skin_z(f, gx.ravel(), gy.ravel()) - 0.016 - 40 * gx.ravel() ** 2
    cv = np.stack([gx.ravel(), gy.ravel(), gz], 1)
    jaw_cav = np.clip((y13 + 0.004 - cv[:, 1]) / 0.012, 0, 1)
    depth_shade = 0.6 + 0.4 * np.clip(
        1 - np.hypot(gx.ravel() / 0.034, (gy.ravel() - y13) / 0.03), 0, 1
    )
    ct = orient_out(cv, grid_tris(nu, nvv, 0), cv.mean(0) - [0, 0, 0.1])
    b.add("mouth_cavity", cv, ct, CAVITY[None] * depth_shade[:, None], jaw_cav)
    # ---- teeth: curved strips behind the lips, one column per 1.75 mm (tooth gaps, shading)
    tx = np.linspace(-0.019, 0.019, 25)
    lipz = skin_z(f, tx, np.full_like(tx, y13))
    # tooth boundaries (mm from the midline): incisors 8.5 / 6.5, canines 7.5, premolars 7
    edges = np.cumsum([0.0, 8.5, 6.5, 7.5, 7.0]) / 1000.0
    gap = np.exp(-0.5 * (np.min(np.abs(np.abs(tx)[:, None] - edges[None]), 1) / 0.0007) ** 2)
    for name, top, bot, back, jw in (
        ("teeth_upper", y13 + 0.010, y13 - 0.0035, 0.0032, 0.0),
        ("teeth_lower", y13 - 0.0010, y13 - 0.0110, 0.0055, 1.0),
    ):
        tv, shade = [], []
        for row, yy in enumerate((top, 0.5 * (top + bot), bot)):
            tv += [[x, yy, z - back - 0.6 * x * x / 0.02] for x, z in zip(tx, lipz, strict=True)]
            # darker toward the back (sides), in the gaps and toward the gums
            rim = 0.92 if (row == 0) == (name == "teeth_upper") else 1.0
            shade += list(rim * (1.0 - 0.42 * (np.abs(tx) / 0.019) ** 1.5) * (1.0 - 0.35 * gap))
        tv = np.array(tv)
        tt = orient_out(tv, grid_tris(len(tx), 3, 0), tv.mean(0) - [0, 0, 0.1])
        b.add(name, tv, tt, TEETH[None] * np.asarray(shade)[:, None], jw)
    # ---- tongue: flattened half ellipsoid on the mouth floor, behind the lower teeth
    tcz = skin_z(f, np.array([0.0]), np.array([y13 - 0.010]))[0] - 0.019
    sv, st, _ = uv_sphere(np.zeros(3), 1.0, [0, 0.4, 0.8, 1.2, 1.6, 2.2, np.pi], 12)
    sv = sv * [0.018, 0.0055, 0.013] + [0, y13 - 0.0095, tcz]
    tshade = 0.75 + 0.25 * np.clip((sv[:, 2] - tcz) / 0.013, 0, 1)  # darker at the back
    b.add("tongue", sv, st, TONGUE[None] * tshade[:, None], 1.0)
    # ---- scalp / back-of-head shell from the face outline
    loop = boundary_loops(b.tris[0])[0]
    info["outline"] = loop
    top = f[10]
    cen = np.array([0.0, (top[1] + 0.045 + f[152, 1]) / 2, top[2] - 0.095])
    rad = np.array([0.080, (top[1] + 0.045 - f[152, 1]) / 2, 0.105])
    back = np.array([0.0, 0.25, -1.0])
    back /= np.linalg.norm(back)
    n_ring = 7
    ring_v = []
    for k in range(1, n_ring + 1):
        t = k / n_ring
        for i in loop:
            q = (f[i] - cen) / rad
            rq = np.linalg.norm(q)
            d = q / rq
            om = np.arccos(np.clip(d @ back, -1, 1))
            dd = (np.sin((1 - t) * om) * d + np.sin(t * om) * back) / max(np.sin(om), 1e-6)
            s = t * t * (3 - 2 * t)
            rr = (1 - s) * rq + s * 1.0
            ring_v.append(cen + rad * dd * (rr if k < n_ring else 1.0))
    ring_v = np.array(ring_v)
    nl = len(loop)
    # dedupe the last ring (all at the pole) to one vertex
    shell_v = np.vstack([ring_v[: (n_ring - 1) * nl], (cen + rad * back)[None]])
    pole = len(shell_v) - 1
    st = []

    def sid(k, j):  # ring k (0 = face outline), index j
        return ("f", loop[j % nl]) if k == 0 else ("s", (k - 1) * nl + j % nl)

    for k in range(n_ring - 1):
        for j in range(nl):
            a, bb, c, d = sid(k, j), sid(k, j + 1), sid(k + 1, j + 1), sid(k + 1, j)
            st += [(a, bb, c), (a, c, d)]
    for j in range(nl):
        st.append((sid(n_ring - 1, j), sid(n_ring - 1, j + 1), ("s", pole)))
    base = b.nv
    tri = np.array([[p[1] if p[0] == "f" else base + p[1] for p in t] for t in st])
    allv = np.vstack(b.v + [shell_v])
    tri = orient_out(allv, tri, cen)
    # hair: above the forehead's top, on the temples above the ears, and the back of the
    # head down to the nape; a few mm of volume (pushed out from the skull centre)
    ear_y = 0.5 * (f[33, 1] + f[1, 1])  # ears span brow to nose base: centre between
    hair = np.clip((shell_v[:, 1] - (top[1] - 0.006)) / 0.006, 0, 1)
    hair = np.maximum(
        hair,
        np.clip((shell_v[:, 1] - (ear_y + 0.030)) / 0.012, 0, 1)
        * np.clip((np.abs(shell_v[:, 0]) - 0.055) / 0.008, 0, 1),
    )
    hair = np.maximum(
        hair,
        np.clip((cen[2] + 0.005 - shell_v[:, 2]) / 0.025, 0, 1)
        * np.clip((shell_v[:, 1] - (ear_y - 0.045)) / 0.02, 0, 1),
    )
    out_dir = (shell_v - cen) / np.linalg.norm(shell_v - cen, axis=1, keepdims=True)
    # volume: ~14 mm on the crown, ~9 mm on the sides and back, none at the hairline
    crown = np.clip((shell_v[:, 1] - top[1]) / 0.04, 0, 1)
    depth = (0.009 + 0.005 * crown) * np.clip((hair - 0.3) / 0.7, 0, 1) ** 0.5
    shell_v = shell_v + out_dir * depth[:, None]
    col = SKIN[None] * (1 - hair[:, None]) + HAIR[None] * hair[:, None]
    # jaw weight on the shell: lower part below the mouth follows the jaw a little
    jaw_sh = np.clip((y13 - 0.01 - shell_v[:, 1]) / 0.04, 0, 1) * np.clip(
        (shell_v[:, 2] - (cen[2] - 0.03)) / 0.06, 0, 1
    )
    b.add("scalp", shell_v, tri - base, col, jaw_sh)
    # ---- ears: flattened, tilted ellipsoids on the sides (brow to nose base), darker bowl
    for side, name in ((+1, "ear_left"), (-1, "ear_right")):
        ev, et, _ = uv_sphere(np.zeros(3), 1.0, [0, 0.35, 0.7, 1.05, 1.4, 1.75, 2.2, 2.7, np.pi],
                              14)  # fmt: skip
        ev = ev[:, [2, 1, 0]] * [side, 1.0, 1.0]  # pole toward the side (outward)
        et = orient_out(ev, et, np.zeros(3))
        bowl = np.clip(ev[:, 0] * side, 0, 1) * (1 - np.hypot(ev[:, 1], ev[:, 2]))
        ev = ev * [0.0065, 0.031, 0.017]
        ev[:, 0] -= side * 0.006 * np.clip(1 - np.hypot(ev[:, 1] / 0.031, ev[:, 2] / 0.017), 0, 1)
        tilt = rotation_matrix([0.0, 0.0, 0.0]) @ rotation_matrix([-0.25, 0, 0])
        ev = ev @ tilt.T + [side * (rad[0] - 0.004), ear_y + 0.004, cen[2] + 0.014]
        ecol = SKIN[None] * (0.97 - 0.35 * np.clip(bowl, 0, 1)[:, None]) + [0.04, -0.01, -0.01]
        b.add(name, ev, et, np.clip(ecol, 0, 1))
    # ---- neck: elliptic tube under the skull that widens into the trapezius and shoulders
    nseg, nrow = 24, 9
    nvtx, ncol = [], []
    for r_ in range(nrow):
        u = r_ / (nrow - 1)
        yy = f[152, 1] + 0.025 - 0.20 * u
        flare = np.clip((f[152, 1] - 0.035 - yy) / 0.10, 0, 1) ** 1.6
        rx, rz = 0.056 + 0.13 * flare, 0.058 + 0.035 * flare
        for k in range(nseg):
            a = 2 * np.pi * k / nseg
            # the trapezius slopes: the sides drop before the front and back
            side_drop = 0.02 * flare * np.cos(a) ** 2
            nvtx.append([rx * np.cos(a), yy - side_drop, cen[2] - 0.018 + rz * np.sin(a)])
            shirt = float(np.clip((f[152, 1] - 0.075 - yy) / 0.01, 0, 1))
            ncol.append(SKIN * 0.93 * (1 - shirt) + np.array([0.22, 0.26, 0.33]) * shirt)
    nvtx = np.array(nvtx)
    nt = []
    for r_ in range(nrow - 1):
        for k in range(nseg):
            a0, a1 = r_ * nseg + k, r_ * nseg + (k + 1) % nseg
            nt += [(a0, a1, a1 + nseg), (a0, a1 + nseg, a0 + nseg)]
    nt = np.array(nt)
    axis_pts = nvtx * [0, 1, 0] + [0, 0, cen[2] - 0.018]
    t3 = nvtx[nt]
    nn = np.cross(t3[:, 1] - t3[:, 0], t3[:, 2] - t3[:, 0])
    flip = np.einsum("ij,ij->i", nn, t3.mean(1) - axis_pts[nt].mean(1)) < 0
    nt[flip] = nt[flip][:, [0, 2, 1]]
    b.add("neck", nvtx, nt, np.asarray(ncol))
    info["head_centre"] = cen
    return b, info


# ------------------------------------------------------------------ fields
def adjacency(tris: np.ndarray, n: int):
    import scipy.sparse as sp

    i = np.concatenate([tris[:, 0], tris[:, 1], tris[:, 2], tris[:, 1], tris[:, 2], tris[:, 0]])
    j = np.concatenate([tris[:, 1], tris[:, 2], tris[:, 0], tris[:, 0], tris[:, 1], tris[:, 2]])
    a = sp.coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n)).tocsr()
    a.data[:] = 1.0
    return a


def harmonic(adj, fixed: np.ndarray, values: np.ndarray, iters: int = 300) -> np.ndarray:
    """Fill the unfixed entries by Jacobi iterations of the graph Laplacian."""
    deg = np.asarray(adj.sum(1)).ravel()
    x = np.where(fixed[:, None], values, 0.0) if values.ndim == 2 else np.where(fixed, values, 0.0)
    for _ in range(iters):
        y = adj @ x
        y = y / np.maximum(deg, 1)[:, None] if x.ndim == 2 else y / np.maximum(deg, 1)
        x = np.where(fixed[:, None], values, y) if x.ndim == 2 else np.where(fixed, values, y)
    return x


def point_in_poly(pts: np.ndarray, poly: np.ndarray) -> np.ndarray:
    from matplotlib.path import Path as MPath  # noqa: F401 - optional

    raise NotImplementedError


def inside_polygon(pts, poly):
    """Even-odd rule, 2D."""
    x, y = pts[:, 0], pts[:, 1]
    inside = np.zeros(len(pts), bool)
    n = len(poly)
    for i in range(n):
        x1, y1 = poly[i]
        x2, y2 = poly[(i + 1) % n]
        cond = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            xi = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= cond & (x < xi)
    return inside


def gauss(v, c, r):
    return np.exp(-np.sum((v - c) ** 2, axis=-1) / (2 * r * r))


def build_blendshapes(b: Builder, info: dict) -> tuple[np.ndarray, np.ndarray, dict]:
    v = np.vstack(b.v)
    nvtx = len(v)
    f = v[:468]
    tris = np.vstack(b.tris)
    adj_face = adjacency(b.tris[0], 468)
    D = np.zeros((52, nvtx, 3))
    G = b.groups
    jaw_w = np.concatenate(b.jaw)
    x = v[:, 0]
    # ---- lips
    outer = np.array([*UPPER_OUTER, *LOWER_OUTER[::-1][1:-1]])
    lips_in = np.zeros(nvtx, bool)
    lips_in[:468] = inside_polygon(f[:, :2], f[outer, :2] * [1.04, 1.0] + [0, 0])
    lips_in[outer] = True
    mid_x = f[UPPER_INNER, 0]
    mid_y = 0.5 * (f[UPPER_INNER, 1] + f[LOWER_INNER, 1])
    line = np.interp(x, mid_x, mid_y)
    lower_lip = lips_in & (v[:, 1] < line)
    lower_lip[LOWER_INNER[1:-1]] = True
    upper_lip = lips_in & ~lower_lip
    for i in (61, 291, 78, 308):
        lower_lip[i] = upper_lip[i] = False
    # ---- jaw weight on the face mesh (harmonic between constraints)
    fixed = np.zeros(468, bool)
    val = np.zeros(468)
    fixed[lower_lip[:468]] = True
    val[lower_lip[:468]] = 1.0
    fixed[upper_lip[:468]] = True
    corner_y = f[61, 1]
    upper_face = (f[:, 1] > corner_y + 0.012) & ~lips_in[:468]
    fixed |= upper_face
    chin = (f[:, 1] < f[14, 1] - 0.012) & (np.abs(f[:, 0]) < 0.04)
    fixed |= chin
    val[chin] = 1.0
    outline = np.array(info["outline"])
    jl = outline[f[outline, 1] < corner_y - 0.015]
    fixed[jl] = True
    val[jl] = np.clip((corner_y - 0.015 - f[jl, 1]) / 0.02, 0, 1)
    for i in (61, 291, 78, 308):
        fixed[i], val[i] = True, 0.45
    jaw_w[:468] = harmonic(adj_face, fixed, val)
    hinge = info["hinge"]

    def jaw_rot(angle, weight):
        r = rotation_matrix([angle, 0, 0])
        return weight[:, None] * ((v - hinge) @ r.T + hinge - v)

    def put(name, disp):
        D[ARKIT_INDEX[name]] = disp

    jaw_open = jaw_rot(0.30, jaw_w)
    put("jawOpen", jaw_open)
    put("jawForward", jaw_w[:, None] * [0, 0, 0.006])
    put("jawLeft", jaw_w[:, None] * [0.008, 0, 0])
    put("jawRight", jaw_w[:, None] * [-0.008, 0, 0])
    # lower-lip mask with a falloff onto the chin (face mesh only)
    ll = lower_lip.astype(float)
    fx = np.zeros(468, bool)
    fx[lower_lip[:468] | upper_lip[:468]] = True
    fx |= (f[:, 1] < f[17, 1] - 0.012) | upper_face
    ll[:468] = harmonic(adj_face, fx, ll[:468])
    ul = upper_lip.astype(float)
    fx2 = (
        upper_lip[:468]
        | lower_lip[:468]
        | (f[:, 1] > f[0, 1] + 0.010)
        | (f[:, 1] < line[:468] - 0.01)
    )
    ul[:468] = harmonic(adj_face, fx2, ul[:468])
    for i in (61, 291, 78, 308):
        ll[i] = ul[i] = 0.5
    ll[G["teeth_lower"]] = 0.0
    put("mouthClose", -jaw_open * ll[:, None] * (np.arange(nvtx) < 468)[:, None])
    lips_soft = np.clip(ll + ul, 0, 1)
    lips_soft[468:] = 0
    mouth_c = 0.5 * (f[13] + f[14])
    rel = (v - mouth_c) / [0.03, 0.02, 0.03]
    mreg = np.exp(-0.5 * (rel**2).sum(1))
    mreg[468:] = 0
    mreg_t = mreg.copy()
    mreg_t[G["teeth_upper"]] = mreg_t[G["teeth_lower"]] = 0
    centre_w = np.exp(-0.5 * (x / 0.012) ** 2)
    # pucker / funnel
    put(
        "mouthPucker",
        mreg[:, None] * np.stack([-0.55 * (x - mouth_c[0]), 0 * x, 0.008 + 0 * x], 1)
        + (lips_soft * 0.003)[:, None] * [0, 0, 1],
    )
    fun = mreg[:, None] * np.stack([-0.2 * (x - mouth_c[0]), 0 * x, 0.006 + 0 * x], 1)
    fun += (ul * centre_w * 0.0045)[:, None] * [0, 1, 0.3] + (ll * centre_w * 0.006)[:, None] * [
        0,
        -1,
        0.3,
    ]
    put("mouthFunnel", fun)
    put("mouthLeft", mreg[:, None] * [0.008, 0, 0])
    put("mouthRight", mreg[:, None] * [-0.008, 0, 0])
    put("mouthRollLower", (ll * 1.0)[:, None] * [0, 0.002, -0.005])
    put("mouthRollUpper", (ul * 1.0)[:, None] * [0, -0.002, -0.005])
    put(
        "mouthShrugLower",
        np.maximum(ll, jaw_w * (np.arange(nvtx) < 468) * 0.6)[:, None] * [0, 0.004, 0.002],
    )
    put("mouthShrugUpper", ul[:, None] * [0, 0.003, 0.002])
    # lip raise / drop profiles: 0 at the corners, 1 from half-way to the centre; 0.35 on
    # the inner edge rising to 1 on the outer contour
    half_w = 0.5 * abs(f[291, 0] - f[61, 0])
    lip_taper = np.clip(1.5 * (1 - np.abs(x - mouth_c[0]) / half_w), 0, 1)
    th_lo = line[14] - f[17, 1]
    th_up = f[0, 1] - line[13]
    lip_lo_out = 0.35 + 0.65 * np.clip((line - v[:, 1]) / th_lo, 0, 1)
    lip_up_out = 0.35 + 0.65 * np.clip((v[:, 1] - line) / th_up, 0, 1)
    # one-sided shapes
    for side, sfx in ((+1, "Left"), (-1, "Right")):
        sx = np.array([side, 1, 1])
        corner = f[291] if side > 0 else f[61]
        half = 1 / (1 + np.exp(-side * x / 0.004))
        half[468:] = 0
        gc = gauss(v, corner, 0.014)
        gc[468:] = 0
        gw = gauss(v, corner, 0.02)
        gw[468:] = 0
        cheek = corner + [side * 0.012, 0.018, -0.005]
        put(
            f"mouthSmile{sfx}",
            gc[:, None] * ([0.005, 0.008, -0.003] * sx)
            + gauss(v, cheek, 0.015)[:, None]
            * (np.arange(nvtx) < 468)[:, None]
            * [0, 0.003, 0.002],
        )
        put(f"mouthFrown{sfx}", gc[:, None] * ([0.001, -0.007, 0] * sx))
        put(f"mouthStretch{sfx}", gw[:, None] * ([0.008, -0.003, -0.002] * sx))
        put(f"mouthDimple{sfx}", gc[:, None] * ([0.003, 0, -0.004] * sx))
        put(
            f"mouthPress{sfx}",
            (half * (ul - ll))[:, None] * [0, -0.0022, -0.001] + (half * (ll - ul) * 0)[:, None],
        )
        # the lip's outer contour moves, its corners stay and its inner edge follows
        # 35 % of the way (the inner gap is jawOpen's; the 2D sketch moves it likewise)
        put(f"mouthLowerDown{sfx}", (half * ll * lip_taper * lip_lo_out)[:, None]
            * [0, -0.0065, 0.001])  # fmt: skip
        put(f"mouthUpperUp{sfx}", (half * ul * lip_taper * lip_up_out)[:, None]
            * [0, 0.0055, 0.001])  # fmt: skip
        # eyes
        e = EYE[side]
        up, lo = f[e["upper"]], f[e["lower"]]
        order = np.argsort(lo[:, 0])
        lo_y = np.interp(up[:, 0], lo[order, 0], lo[order, 1])
        lo_z = np.interp(up[:, 0], lo[order, 0], lo[order, 2])
        meet_y = lo_y + 0.22 * (up[:, 1] - lo_y)
        d_up = np.zeros((len(up), 3))
        d_up[:, 1] = meet_y - up[:, 1]
        d_up[:, 2] = 0.5 * (lo_z - up[:, 2]) + 0.001
        order_u = np.argsort(up[:, 0])
        meet_lo = np.interp(lo[:, 0], up[order_u, 0], meet_y[order_u])
        d_lo = np.zeros((len(lo), 3))
        d_lo[:, 1] = meet_lo - lo[:, 1]
        ec = np.vstack([up, lo]).mean(0)
        far = np.linalg.norm(f - ec, axis=1) > 0.022
        brow = np.zeros(468, bool)
        brow[e["brow"]] = True

        def lid_field(du, dl, far=far, brow=brow, e=e):
            fixed = far | brow
            vals = np.zeros((468, 3))
            fixed[e["upper"]] = True
            vals[e["upper"]] = du
            fixed[e["lower"]] = True
            vals[e["lower"]] = dl
            out = np.zeros((nvtx, 3))
            out[:468] = harmonic(adj_face, fixed, vals)
            return out

        put(f"eyeBlink{sfx}", lid_field(d_up, d_lo))
        put(
            f"eyeSquint{sfx}",
            lid_field(0.25 * d_up, 0.45 * d_lo)
            + gauss(v, ec - [0, 0.016, -0.004], 0.01)[:, None]
            * (np.arange(nvtx) < 468)[:, None]
            * [0, 0.002, 0.001],
        )
        put(f"eyeWide{sfx}", lid_field(-0.35 * d_up, -0.15 * d_lo))
        eb = G["eye_left" if side > 0 else "eye_right"]
        ecen = info[("eye_left" if side > 0 else "eye_right") + "_centre"]

        def eye_rot(rv, eb=eb, ecen=ecen):
            out = np.zeros((nvtx, 3))
            out[eb] = (v[eb] - ecen) @ rotation_matrix(rv).T + ecen - v[eb]
            return out

        put(f"eyeLookUp{sfx}", eye_rot([-0.35, 0, 0]))
        put(f"eyeLookDown{sfx}", eye_rot([0.35, 0, 0]))
        put(f"eyeLookIn{sfx}", eye_rot([0, -0.45 * side, 0]))
        put(f"eyeLookOut{sfx}", eye_rot([0, 0.45 * side, 0]))
        # brows
        bp = f[e["brow"]]
        dist = np.min(np.linalg.norm(v[:, None] - bp[None], axis=-1), axis=1)
        bm = np.exp(-0.5 * (dist / 0.009) ** 2) * (v[:, 1] > ec[1] + 0.004)
        bm[468:] = 0
        inner = np.clip(1 - np.abs(x) / 0.05, 0, 1) * (side * x > 0)
        outer_w = np.clip((np.abs(x) - 0.015) / 0.035, 0, 1) * (side * x > 0)
        put(
            f"browDown{sfx}",
            (bm * (0.4 + 0.6 * inner))[:, None] * ([-0.0015, -0.0055, -0.001] * sx),
        )
        put(f"browOuterUp{sfx}", (bm * outer_w)[:, None] * [0, 0.007, 0])
        if side > 0:
            bmi = bm.copy()
        else:
            put(
                "browInnerUp",
                ((bm + bmi) * np.clip(1 - np.abs(x) / 0.045, 0, 1))[:, None] * [0, 0.0075, 0.0005],
            )
        put(
            f"cheekSquint{sfx}",
            gauss(v, ec + [side * 0.004, -0.02, 0.0], 0.012)[:, None]
            * (np.arange(nvtx) < 468)[:, None]
            * [0, 0.004, 0.001],
        )
        ala = f[358] if side > 0 else f[129]
        put(
            f"noseSneer{sfx}",
            gauss(v, ala + [0, 0.006, 0], 0.009)[:, None]
            * (np.arange(nvtx) < 468)[:, None]
            * [0, 0.0035, 0.001],
        )
        if side > 0:
            ck = f[425]
        else:
            ck2 = f[205]
    nrm = np.zeros((nvtx, 3))
    tri_f = b.tris[0]
    t3 = f[tri_f]
    fn = np.cross(t3[:, 1] - t3[:, 0], t3[:, 2] - t3[:, 0])
    for k in range(3):
        np.add.at(nrm, tri_f[:, k], fn)
    nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-12)
    puff = (gauss(v, ck, 0.02) + gauss(v, ck2, 0.02)) * (np.arange(nvtx) < 468)
    put("cheekPuff", puff[:, None] * nrm * 0.009)
    tongue = G["tongue"]
    to = np.zeros((nvtx, 3))
    to[tongue] = [0, -0.004, 0.02]
    put("tongueOut", to)  # visible together with jawOpen
    # lower lip mask for colours
    colors = np.vstack(b.colors)
    lipc = np.clip(np.maximum(ll, ul) * 1.4, 0, 1) * (np.arange(nvtx) < 468)
    lipc[lips_in] = 1.0
    colors = colors * (1 - lipc[:, None]) + LIP[None] * lipc[:, None]
    for side in (+1, -1):
        bp = f[EYE[side]["brow"]]
        dist = np.min(np.linalg.norm(v[:, None] - bp[None], axis=-1), axis=1)
        bc = 0.75 * np.exp(-0.5 * (dist / 0.0032) ** 2) * (np.arange(nvtx) < 468)
        colors = colors * (1 - bc[:, None]) + BROW[None] * bc[:, None]
    # skin tones: warmer cheeks, nose tip and chin, a shade darker in the eye sockets and
    # under the jaw line (the real faces' albedo varies like this; the lighting does the rest)
    face = np.arange(nvtx) < 468
    warm = (gauss(v, ck, 0.016) + gauss(v, ck2, 0.016) + 0.8 * gauss(v, f[1], 0.008)
            + 0.5 * gauss(v, f[152] + [0, 0.01, 0], 0.012)) * face  # fmt: skip
    colors = colors + np.clip(warm, 0, 1)[:, None] * [0.05, -0.02, -0.02]
    for side in (+1, -1):
        e = EYE[side]
        ec = f[e["upper"] + e["lower"]].mean(0)
        colors = colors - (0.07 * gauss(v, ec + [0, 0.004, 0], 0.011) * face)[:, None] * [1, 1.1, 1]
    colors = np.clip(colors, 0, 1)
    groups = dict(G)
    groups["lips_upper"] = np.nonzero(upper_lip)[0]
    groups["lips_lower"] = np.nonzero(lower_lip)[0]
    groups["lips"] = np.nonzero(lips_in)[0]
    return D.astype(np.float32), colors.astype(np.float32), groups, tris


def undo_camera_perspective(neutral: np.ndarray, deltas: np.ndarray, iters: int = 3):
    """Scale x, y about the render camera's axis by depth / distance (neutral and deltas).

    ``HeadRenderer`` looks down -z from ``CAMERA_DISTANCE`` in front of a target it derives
    from the face mesh's box; a vertex ``dz`` behind the target lands at
    ``focal * x / (D + dz)``. Scaling its x, y (about the target) by ``(D + dz) / D`` makes
    the camera project the face as an orthographic view of the tracked mean (whose x, y
    are image coordinates of real cameras): the neutral 68 points match the sketch's at
    0.5 % of the eye distance on average instead of 1.3 % (the jaw line 0.8 % vs 2.9 %).
    The deltas get the same per-vertex scale (their depth change is not compensated); then
    all is scaled uniformly so the outer eye corners stay 0.09 m apart.
    """
    from talkinghead.render.head3d import CAMERA_DISTANCE

    v, d = neutral.copy(), deltas.copy()
    base, base_d = neutral.copy(), deltas.copy()
    for _ in range(iters):  # the target follows the face box, which the scaling moves
        fm = v[:468]
        centre = 0.5 * (fm.min(0) + fm.max(0))
        height = float(fm[:, 1].max() - fm[:, 1].min())
        target = np.array([0.0, centre[1] - 0.09 * height, centre[2]])
        k = (CAMERA_DISTANCE - (base[:, 2] - target[2])) / CAMERA_DISTANCE  # (V,)
        v = base.copy()
        v[:, :2] = target[:2] + (base[:, :2] - target[:2]) * k[:, None]
        d = base_d.copy()
        d[:, :, :2] = base_d[:, :, :2] * k[None, :, None]
    g = 0.09 / float(np.linalg.norm(v[263] - v[33]))  # keep the canonical eye-corner scale
    return v * g, d * g


def build(out: Path = OUT) -> HeadModel:
    v478 = build_neutral()
    b, info = build_geometry(v478)
    deltas, colors, groups, tris = build_blendshapes(b, info)
    neutral = np.vstack(b.v)
    skin = np.zeros(len(neutral), bool)
    skin[groups["face_mesh"]] = skin[groups["scalp"]] = True
    sk = skin[tris].all(1)
    tris[sk] = make_consistent(neutral, tris[sk], info["head_centre"])
    # origin = head pivot (centre of the skull, a little below the eyes)
    pivot = np.array([0.0, -0.03, info["head_centre"][2] + 0.02])
    neutral, deltas = undo_camera_perspective(neutral - pivot, deltas)
    model = HeadModel(names=ARKIT_NAMES, neutral=neutral, faces=tris, deltas=deltas,
                      colors=colors, groups=groups)  # fmt: skip
    model.save(out)
    print(f"wrote {out}: {model.n_vertices} vertices, {len(model.faces)} triangles, "
          f"{out.stat().st_size / 1024:.0f} KiB")  # fmt: skip
    return model


def contact_sheet(model: HeadModel, path: Path, size: int = 256, backend: str = "auto") -> None:
    import cv2

    from talkinghead.render.head3d import HeadRenderer

    r = HeadRenderer(model, size=size, backend=backend)
    tiles = []
    for i, name in enumerate(["neutral", *model.names]):
        w = np.zeros(model.n_shapes, np.float32)
        if i:
            w[i - 1] = 1.0
        img = r.render(w).copy()
        cv2.putText(
            img, name, (4, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA
        )
        tiles.append(img)
    cols = 11
    while len(tiles) % cols:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.hstack(tiles[k : k + cols]) for k in range(0, len(tiles), cols)]
    sheet = np.vstack(rows)
    cv2.imwrite(str(path), sheet[..., ::-1])
    print(f"wrote {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--sheet", type=Path, default=None, help="also write a contact sheet PNG")
    ap.add_argument("--backend", default="auto")
    a = ap.parse_args()
    model = build(a.out)
    if a.sheet:
        contact_sheet(model, a.sheet, backend=a.backend)


if __name__ == "__main__":
    main()
