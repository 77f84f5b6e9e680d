"""Piecewise-affine image warps on a fixed triangulation of control points.

Two flavours, both ending in one ``cv2.remap``:

- :class:`FixedTargetWarp`: the *output* geometry is fixed (an AAM's mean shape on
  its reference frame). Every output pixel's triangle and barycentric coordinates
  are computed once; a warp is then one ``(P, 3) x (3,)`` blend of the source
  vertices per axis plus a remap (about 1 ms at 128 x 128).
- :func:`piecewise_affine_maps`: the output geometry changes per frame (a
  talking photo). Triangle ids are rasterised with ``cv2.fillConvexPoly`` inside
  the bounding box of the moved points; each pixel then uses its triangle's
  affine ``dst -> src``.

Coordinates are pixels, ``x`` right, ``y`` down. ``cv2`` is imported inside the
functions so that importing this module stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidArgumentError

__all__ = [
    "delaunay",
    "triangle_affines",
    "piecewise_affine_maps",
    "FixedTargetWarp",
    "feather_mask",
]


def delaunay(points: np.ndarray) -> np.ndarray:
    """Delaunay triangulation of 2-D points.

    Parameters
    ----------
    points : ndarray, shape (N, 2)

    Returns
    -------
    ndarray, shape (K, 3), int32
        Vertex indices of each triangle, counter-clockwise in ``y``-down pixels
        consistently oriented (all signed areas of one sign).
    """
    from scipy.spatial import Delaunay

    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3:
        raise InvalidArgumentError(f"points.shape={pts.shape} must be (N >= 3, 2)")
    return np.ascontiguousarray(Delaunay(pts).simplices, dtype=np.int32)


def triangle_affines(src: np.ndarray, dst: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Per-triangle affine maps taking ``dst`` triangles onto ``src`` triangles.

    Parameters
    ----------
    src, dst : ndarray, shape (N, 2)
    triangles : ndarray, shape (K, 3)

    Returns
    -------
    ndarray, shape (K, 2, 3)
        ``src_xy = A[k] @ (x, y, 1)`` for a point ``(x, y)`` of ``dst`` triangle
        ``k``. Degenerate ``dst`` triangles (zero area) map every point to the
        centroid of their ``src`` triangle.
    """
    s = np.asarray(src, dtype=np.float64)[triangles]  # (K, 3, 2)
    d = np.asarray(dst, dtype=np.float64)[triangles]
    D = np.concatenate([d, np.ones(d.shape[:2] + (1,))], axis=2)  # (K, 3, 3) rows (x, y, 1)
    det = np.linalg.det(D)
    ok = np.abs(det) > 1e-9
    A = np.empty((len(triangles), 2, 3))
    if ok.any():
        # D @ A^T = s  ->  A^T = D^-1 s
        A[ok] = np.transpose(np.linalg.solve(D[ok], s[ok]), (0, 2, 1))
    if (~ok).any():
        A[~ok] = 0.0
        A[~ok, :, 2] = s[~ok].mean(axis=1)
    return A


def piecewise_affine_maps(
    src: np.ndarray,
    dst: np.ndarray,
    triangles: np.ndarray,
    *,
    shape: tuple[int, int],
    box: tuple[int, int, int, int] | None = None,
    step: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """Backward maps of the warp moving ``src`` control points to ``dst``.

    Parameters
    ----------
    src, dst : ndarray, shape (N, 2)
        Control points in the source image and where they go in the output.
    triangles : ndarray, shape (K, 3)
    shape : (height, width)
        Output image size.
    box : (x0, y0, x1, y1), optional
        Output region to compute (default: bounding box of ``dst``, clipped).
    step : int
        Evaluate the maps on every ``step``-th pixel and interpolate them bilinearly
        (``cv2.resize``; the maps are continuous and piecewise linear, so the error stays
        well under a pixel where triangles are wider than a few ``step``); ``inside`` is
        then the nearest coarse pixel's. About ``step**2`` times faster for large boxes.

    Returns
    -------
    map_x, map_y : ndarray, shape (y1 - y0, x1 - x0), float32
        Source coordinates of every output pixel of the box (identity outside the
        triangulated region), ready for ``cv2.remap``.
    inside : ndarray, shape (y1 - y0, x1 - x0), int32
        Triangle index + 1 of every pixel, 0 outside the triangulation.
    box : (x0, y0, x1, y1)
    """
    import cv2

    h, w = int(shape[0]), int(shape[1])
    dst = np.asarray(dst, dtype=np.float64)
    if box is None:
        lo = np.floor(dst.min(axis=0)).astype(int)
        hi = np.ceil(dst.max(axis=0)).astype(int) + 1
        box = (max(0, lo[0]), max(0, lo[1]), min(w, hi[0]), min(h, hi[1]))
    x0, y0, x1, y1 = (int(v) for v in box)
    bw, bh = max(0, x1 - x0), max(0, y1 - y0)
    step = int(step)
    if step < 1:
        raise InvalidArgumentError(f"step={step} must be >= 1")
    if step > 1 and bw >= 2 * step and bh >= 2 * step:
        # coarse pixel j sits where cv2.resize puts it: full x = step * j + (step - 1) / 2
        cw, ch = -(-bw // step), -(-bh // step)
        o = np.array([x0, y0]) + (step - 1) / 2
        cmx, cmy, cids, _ = piecewise_affine_maps(
            src, (dst - o) / step, triangles, shape=(ch, cw), box=(0, 0, cw, ch)
        )
        # the coarse maps hold source pixels already; pixels outside every triangle get
        # the identity of the *full* grid (the coarse call's identity is coarse)
        out = cids == 0
        if out.any():
            jj, ii = np.nonzero(out)
            cmx[out] = o[0] + step * ii
            cmy[out] = o[1] + step * jj
        size = (cw * step, ch * step)  # exactly ``step`` times: the grids line up
        map_x = cv2.resize(cmx, size, interpolation=cv2.INTER_LINEAR)[:bh, :bw]
        map_y = cv2.resize(cmy, size, interpolation=cv2.INTER_LINEAR)[:bh, :bw]
        ids = cv2.resize(cids, size, interpolation=cv2.INTER_NEAREST)[:bh, :bw]
        return map_x, map_y, ids, (x0, y0, x1, y1)  # views: cv2 takes row strides
    ids = np.zeros((bh, bw), dtype=np.int32)
    shift = 4
    pts = np.round((dst - (x0, y0)) * (1 << shift)).astype(np.int32)
    for k, tri in enumerate(triangles):
        cv2.fillConvexPoly(ids, pts[tri], k + 1, lineType=cv2.LINE_8, shift=shift)
    A = triangle_affines(src, dst, triangles).reshape(-1, 6)
    # row 0: identity for pixels outside every triangle
    A = np.concatenate([[[1.0, 0.0, 0.0, 0.0, 1.0, 0.0]], A]).astype(np.float32)
    xs = np.arange(x0, x1, dtype=np.float32)[None, :]
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    a = A[ids]  # (bh, bw, 6)
    map_x = a[..., 0] * xs + a[..., 1] * ys + a[..., 2]
    map_y = a[..., 3] * xs + a[..., 4] * ys + a[..., 5]
    return map_x, map_y, ids, (x0, y0, x1, y1)


@dataclass
class FixedTargetWarp:
    """Warp from varying source control points onto a fixed target shape.

    Parameters
    ----------
    target : ndarray, shape (N, 2)
        Control points in the output (reference) frame, pixels.
    triangles : ndarray, shape (K, 3)
    size : (height, width)
        Output size.

    Attributes
    ----------
    mask : ndarray, shape (height, width), bool
        Output pixels inside the triangulation.
    tri : ndarray, shape (P,), int32
        Triangle of each masked pixel (row-major order).
    bary : ndarray, shape (P, 3), float32
        Barycentric coordinates of each masked pixel in its triangle.
    """

    target: np.ndarray
    triangles: np.ndarray
    size: tuple[int, int]

    def __post_init__(self) -> None:
        self.target = np.asarray(self.target, dtype=np.float64)
        self.triangles = np.asarray(self.triangles, dtype=np.int32)
        h, w = self.size
        _, _, ids, _ = piecewise_affine_maps(
            self.target, self.target, self.triangles, shape=(h, w), box=(0, 0, w, h)
        )
        self.mask = ids > 0
        yy, xx = np.nonzero(self.mask)
        self.tri = (ids[self.mask] - 1).astype(np.int32)
        v = self.target[self.triangles[self.tri]]  # (P, 3, 2)
        T = np.stack([v[:, 0] - v[:, 2], v[:, 1] - v[:, 2]], axis=2)  # (P, 2, 2)
        rhs = np.stack([xx, yy], axis=1) - v[:, 2]
        l12 = np.linalg.solve(T, rhs[..., None])[..., 0]
        self.bary = np.concatenate([l12, 1 - l12.sum(1, keepdims=True)], axis=1).astype(np.float32)
        from scipy.sparse import csr_matrix

        P = len(self.tri)
        rows = np.repeat(np.arange(P), 3)
        cols = self.triangles[self.tri].ravel()
        # (P, N): pixel <- barycentric blend of its triangle's vertices
        self._blend = csr_matrix(
            (self.bary.ravel().astype(np.float64), (rows, cols)), shape=(P, len(self.target))
        )
        self._flat = np.flatnonzero(self.mask.ravel())

    def maps(self, source: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``cv2.remap`` maps (height, width) float32 for source points (N, 2).

        Pixels outside :attr:`mask` map to -1 (border value).
        """
        src = np.asarray(source, dtype=np.float64)
        h, w = self.size
        mx = np.full((h, w), -1.0, dtype=np.float32)
        my = np.full((h, w), -1.0, dtype=np.float32)
        xy = self._blend @ src.astype(np.float64)  # (P, 2)
        mx.ravel()[self._flat] = xy[:, 0]
        my.ravel()[self._flat] = xy[:, 1]
        return mx, my

    def warp(self, image: np.ndarray, source: np.ndarray) -> np.ndarray:
        """Sample ``image`` so that its ``source`` points land on the target shape.

        Returns
        -------
        ndarray, shape (height, width, C), same dtype as ``image``; 0 outside the mask.
        """
        import cv2

        mx, my = self.maps(source)
        return cv2.remap(
            image, mx, my, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
        )


def feather_mask(mask: np.ndarray, *, radius: float) -> np.ndarray:
    """Soft version of a binary mask: eroded by ``radius`` then blurred by ``radius``.

    Parameters
    ----------
    mask : ndarray, shape (H, W), bool or uint8
    radius : float
        Feather width in pixels.

    Returns
    -------
    ndarray, shape (H, W), float32 in [0, 1]; 0 outside the original mask.
    """
    import cv2

    m = (np.asarray(mask) > 0).astype(np.float32)
    r = max(1, int(round(radius)))
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    m = cv2.erode(m, k)
    m = cv2.GaussianBlur(m, (0, 0), sigmaX=r / 2.0)
    return np.clip(m, 0.0, 1.0)
