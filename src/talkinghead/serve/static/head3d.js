// The shipped 3D blendshape head (GET /head.json) drawn on a 2D canvas: neutral + sum of
// w_i * delta_i for the frame's 52 ARKit weights, rotated by the frame's head pose
// (rotation vector, as talkinghead.face.head3d.HeadModel.pose), orthographic view from the
// front, back faces culled, triangles painted back to front with Lambert shading.
// No WebGL and no external library: it runs in any browser and in headless tests.
"use strict";
const Head3D = (() => {
  let head = null, loading = null;
  function load() {
    if (!loading) {
      loading = fetch("/head.json").then((r) => r.json()).then((h) => {
        const V = h.neutral.length / 3, F = h.faces.length / 3;
        head = {
          V, F, neutral: Float32Array.from(h.neutral), faces: Int32Array.from(h.faces),
          colors: Float32Array.from(h.colors), deltas: h.deltas,
          v: new Float32Array(V * 3), p: new Float32Array(V * 3),
          order: new Uint32Array(F), depth: new Float32Array(F),
        };
        let lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
        for (let i = 0; i < V; i++) {
          lo = [Math.min(lo[0], h.neutral[3 * i]), Math.min(lo[1], h.neutral[3 * i + 1])];
          hi = [Math.max(hi[0], h.neutral[3 * i]), Math.max(hi[1], h.neutral[3 * i + 1])];
        }
        head.centre = [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2];
        head.size = Math.max(hi[0] - lo[0], hi[1] - lo[1]);
        return head;
      });
    }
    return loading;
  }
  function rotation(rv) {
    const [x, y, z] = rv || [0, 0, 0], t = Math.hypot(x, y, z);
    if (t < 1e-12) return [1, 0, 0, 0, 1, 0, 0, 0, 1];
    const k = [x / t, y / t, z / t], c = Math.cos(t), s = Math.sin(t), C = 1 - c;
    return [
      c + k[0] * k[0] * C, k[0] * k[1] * C - k[2] * s, k[0] * k[2] * C + k[1] * s,
      k[1] * k[0] * C + k[2] * s, c + k[1] * k[1] * C, k[1] * k[2] * C - k[0] * s,
      k[2] * k[0] * C - k[1] * s, k[2] * k[1] * C + k[0] * s, c + k[2] * k[2] * C,
    ];
  }
  function draw(canvas, weights, rotvec) {
    if (!head) return false;
    const { V, F, neutral, faces, colors, v, p, order, depth } = head;
    v.set(neutral);
    for (const name in weights) {
      const w = weights[name], d = head.deltas[name];
      if (!d || w < 1e-3) continue;
      for (let j = 0; j < d.length; j++) {
        const r = d[j], i = 3 * r[0];
        v[i] += w * r[1]; v[i + 1] += w * r[2]; v[i + 2] += w * r[3];
      }
    }
    const R = rotation(rotvec), g = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
    const s = (0.8 * Math.min(W, H)) / head.size, cx = head.centre[0], cy = head.centre[1];
    for (let i = 0; i < V; i++) {
      const x = v[3 * i], y = v[3 * i + 1], z = v[3 * i + 2];
      const X = R[0] * x + R[1] * y + R[2] * z, Y = R[3] * x + R[4] * y + R[5] * z;
      const Z = R[6] * x + R[7] * y + R[8] * z;
      p[3 * i] = W / 2 + (X - cx) * s; p[3 * i + 1] = H / 2 - (Y - cy) * s; p[3 * i + 2] = Z;
    }
    let n = 0;
    for (let f = 0; f < F; f++) {
      const a = 3 * faces[3 * f], b = 3 * faces[3 * f + 1], c = 3 * faces[3 * f + 2];
      // screen y points down: a front face (counter-clockwise seen from +z) has cross < 0
      const cr = (p[b] - p[a]) * (p[c + 1] - p[a + 1]) - (p[b + 1] - p[a + 1]) * (p[c] - p[a]);
      if (cr >= 0) continue;
      depth[f] = p[a + 2] + p[b + 2] + p[c + 2];
      order[n++] = f;
    }
    const idx = Array.from(order.subarray(0, n)).sort((i, j) => depth[i] - depth[j]);
    g.fillStyle = "rgb(246,244,240)"; g.fillRect(0, 0, W, H);
    for (const f of idx) {
      const ia = faces[3 * f], ib = faces[3 * f + 1], ic = faces[3 * f + 2];
      const a = 3 * ia, b = 3 * ib, c = 3 * ic;
      // normal of the rotated triangle (screen x right, y up, z to the viewer)
      const ux = p[b] - p[a], uy = -(p[b + 1] - p[a + 1]), uz = (p[b + 2] - p[a + 2]) * s;
      const vx = p[c] - p[a], vy = -(p[c + 1] - p[a + 1]), vz = (p[c + 2] - p[a + 2]) * s;
      const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
      const lam = Math.max(0, (0.25 * nx + 0.35 * ny + 0.9 * nz) / (Math.hypot(nx, ny, nz) * 1.0) || 0);
      const k = 0.35 + 0.65 * lam;
      const col = (o) => Math.round(255 * k * (colors[a + o] + colors[b + o] + colors[c + o]) / 3);
      g.fillStyle = `rgb(${col(0)},${col(1)},${col(2)})`;
      g.beginPath(); g.moveTo(p[a], p[a + 1]); g.lineTo(p[b], p[b + 1]); g.lineTo(p[c], p[c + 1]);
      g.closePath(); g.fill(); g.strokeStyle = g.fillStyle; g.lineWidth = 0.6; g.stroke();
    }
    return true;
  }
  return { load, draw };
})();
