// talkinghead live page: capture audio, stream 16 kHz PCM to /ws, draw the 68-point sketch.
// No build step, no external resources. Stats are in window.__stats (read by the tests).
"use strict";
const TARGET_SR = 16000;
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const stats = (window.__stats = {
  state: "idle", frames: 0, lastIndex: -1, mouthMin: null, mouthMax: null,
  latencyMs: null, latencyP50: null, serverAudioMs: null, algorithmicMs: null,
  animator: null, errors: [], ended: false, blinkMax: 0, browMax: 0, headFrames: 0,
  yawMin: null, yawMax: null, pitchMin: null, pitchMax: null, nBlendshapes: 0, drawnFrames: 0,
});
Head3D.load().catch((e) => stats.errors.push(`head: ${e}`));
let session = null;

// ---------------------------------------------------------------- resampling to 16 kHz
// Windowed-sinc low-pass at the input rate (cut-off 7.2 kHz), then linear interpolation
// at the 16 kHz instants: good enough for a face (the server could resample any rate).
class Downsampler {
  constructor(inRate) {
    this.ratio = inRate / TARGET_SR;
    this.half = inRate === TARGET_SR ? 0 : 24;
    const fc = 7200 / inRate, n = 2 * this.half + 1;
    this.taps = new Float32Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const k = i - this.half;
      const sinc = k === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * k) / (Math.PI * k);
      const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (n - 1));
      this.taps[i] = sinc * w; sum += this.taps[i];
    }
    for (let i = 0; i < n; i++) this.taps[i] /= sum;
    this.hist = new Float32Array(n - 1); // last n-1 input samples
    this.lastF = 0;
    this.pos = 0; // next output instant, in filtered-sample units (relative to this block)
  }
  push(x) {
    if (this.half === 0) return x;
    const n = this.taps.length, buf = new Float32Array(this.hist.length + x.length);
    buf.set(this.hist); buf.set(x, this.hist.length);
    const m = x.length, f = new Float32Array(m); // filtered samples of this block
    for (let j = 0; j < m; j++) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += this.taps[i] * buf[j + i];
      f[j] = acc;
    }
    this.hist = buf.slice(buf.length - (n - 1));
    const at = (i) => (i < 0 ? this.lastF : f[i]); // i = -1: the previous block's last
    const out = [];
    while (this.pos + 1 < m) {
      const i0 = Math.floor(this.pos), a = this.pos - i0;
      out.push(at(i0) * (1 - a) + at(i0 + 1) * a);
      this.pos += this.ratio;
    }
    this.pos -= m; // in [-1, ratio - 1): relative to the next block
    if (m) this.lastF = f[m - 1];
    return Float32Array.from(out);
  }
}

// ---------------------------------------------------------------- drawing
let sketch = null, view = null;
function fitView(lm, canvas) {
  let lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
  for (const [x, y] of lm) { lo = [Math.min(lo[0], x), Math.min(lo[1], y)]; hi = [Math.max(hi[0], x), Math.max(hi[1], y)]; }
  hi[1] += 0.35 * (hi[1] - lo[1]); // room for the jaw to open
  const m = 0.12, w = canvas.width, h = canvas.height;
  const s = Math.min((w * (1 - 2 * m)) / (hi[0] - lo[0]), (h * (1 - 2 * m)) / (hi[1] - lo[1]));
  return { s, ox: w / 2 - ((lo[0] + hi[0]) / 2) * s, oy: h / 2 - ((lo[1] + hi[1]) / 2) * s };
}
function draw(lm) {
  const c = $("face"), g = c.getContext("2d");
  if (!view) view = fitView(lm, c);
  const P = lm.map(([x, y]) => [x * view.s + view.ox, y * view.s + view.oy]);
  const col = sketch.colours;
  g.fillStyle = col.background; g.fillRect(0, 0, c.width, c.height);
  g.lineWidth = sketch.thickness; g.lineJoin = "round"; g.lineCap = "round";
  g.beginPath();
  sketch.inner_lips.forEach((i, k) => (k ? g.lineTo(...P[i]) : g.moveTo(...P[i])));
  g.closePath(); g.fillStyle = col.mouth_inside; g.fill();
  for (const [idx, closed, colour] of sketch.polylines) {
    g.beginPath();
    idx.forEach((i, k) => (k ? g.lineTo(...P[i]) : g.moveTo(...P[i])));
    if (closed) g.closePath();
    g.strokeStyle = col[colour]; g.stroke();
  }
}

// Frames are drawn on the next animation frame, the latest one only: a slow page (software
// rendering of the 3D head) skips frames instead of falling behind the audio.
let pending = null;
function schedule(m) {
  const first = pending === null;
  pending = m;
  if (first) requestAnimationFrame(() => {
    const f = pending; pending = null;
    draw(f.landmarks);
    if (f.blendshapes && Head3D.draw($("head"), f.blendshapes, f.head_pose)) stats.headFrames++;
    stats.drawnFrames++;
  });
}

// ---------------------------------------------------------------- streaming
function setStatus(s) { stats.state = s; $("status").textContent = s; }
function showStats() {
  const f = (v, d = 1) => (v === null ? "-" : Number(v).toFixed(d));
  $("stats").textContent =
    `animator        ${stats.animator}\nframes          ${stats.frames}\n` +
    `latency (now)   ${f(stats.latencyMs)} ms   median ${f(stats.latencyP50)} ms   (audio in -> frame received)\n` +
    `algorithmic     ${f(stats.algorithmicMs)} ms   server had ${f(stats.serverAudioMs)} ms of audio past the frame start\n` +
    `mouth_open      ${f(stats.mouthMin, 3)} .. ${f(stats.mouthMax, 3)}   blink max ${f(stats.blinkMax, 2)}   brow max ${f(stats.browMax, 2)}\n` +
    `head pose       yaw ${f(stats.yawMin, 3)} .. ${f(stats.yawMax, 3)}  pitch ${f(stats.pitchMin, 3)} .. ${f(stats.pitchMax, 3)} rad   ${stats.nBlendshapes} blendshapes` +
    (stats.errors.length ? `\nerrors          ${stats.errors.join("; ")}` : "");
}

async function start(kind, file) {
  if (session) await stop();
  view = null;
  const ctx = new AudioContext();
  await ctx.audioWorklet.addModule("/static/capture-worklet.js");
  let source, media = null;
  if (kind === "mic") {
    media = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    source = ctx.createMediaStreamSource(media);
  } else {
    const buf = await ctx.decodeAudioData(await file.arrayBuffer());
    source = ctx.createBufferSource(); source.buffer = buf;
    source.connect(ctx.destination);
  }
  const node = new AudioWorkletNode(ctx, "capture-processor");
  const sink = ctx.createGain(); sink.gain.value = 0; // keep the graph pulling, silently
  source.connect(node); node.connect(sink); sink.connect(ctx.destination);

  const token = params.get("token");
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  setStatus("connecting");
  const ws = new WebSocket(`${proto}//${location.host}/ws` + (token ? `?token=${encodeURIComponent(token)}` : ""));
  ws.binaryType = "arraybuffer";
  const ds = new Downsampler(ctx.sampleRate);
  const sent = []; // [end sample (16 kHz), performance.now() when captured]
  const lat = [];
  let nSent = 0, fps = 25;
  session = { ctx, media, ws, source, node };
  ws.onopen = () => (setStatus("connecting (waiting for the server)"), ws.send(JSON.stringify({ sample_rate: TARGET_SR, format: "s16", fps: 25, lookahead_ms: Number($("lookahead").value) })));
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if (m.type === "ready") {
      sketch = m.sketch; fps = m.fps; stats.animator = m.animator; stats.algorithmicMs = m.latency.algorithmic_ms;
      $("animator").textContent = m.animator;
      setStatus("streaming");
      if (kind === "file") source.start();
    } else if (m.type === "frame") {
      stats.frames++; stats.lastIndex = m.index;
      stats.mouthMin = stats.mouthMin === null ? m.mouth_open : Math.min(stats.mouthMin, m.mouth_open);
      stats.mouthMax = stats.mouthMax === null ? m.mouth_open : Math.max(stats.mouthMax, m.mouth_open);
      stats.serverAudioMs = m.latency.audio_ms;
      // capture time of the frame's centre sample: from the chunk that carried it
      const s = Math.round(((m.index + 0.5) / fps) * TARGET_SR);
      while (sent.length > 1 && sent[1][0] <= s) sent.shift();
      const chunk = sent.find((e) => e[0] > s);
      if (chunk) {
        const l = performance.now() - (chunk[1] - ((chunk[0] - s) / TARGET_SR) * 1000);
        stats.latencyMs = l; lat.push(l); if (lat.length > 200) lat.shift();
        const sorted = [...lat].sort((a, b) => a - b); stats.latencyP50 = sorted[sorted.length >> 1];
      }
      schedule(m);
      const mm = (k, v) => { stats[k + "Min"] = stats[k + "Min"] === null ? v : Math.min(stats[k + "Min"], v);
                             stats[k + "Max"] = stats[k + "Max"] === null ? v : Math.max(stats[k + "Max"], v); };
      if (m.blink !== undefined) stats.blinkMax = Math.max(stats.blinkMax, m.blink);
      if (m.brow !== undefined) stats.browMax = Math.max(stats.browMax, m.brow);
      if (m.head_pose) { mm("yaw", m.head_pose[1]); mm("pitch", m.head_pose[0]); }
      if (m.blendshapes) {
        stats.nBlendshapes = Object.keys(m.blendshapes).length;
      }
    } else if (m.type === "end") {
      stats.ended = true; setStatus("ended"); ws.close();
    } else if (m.type === "error") {
      stats.errors.push(m.message); setStatus(m.code === 1013 ? "refused: server busy" : "error");
    }
    showStats();
  };
  ws.onclose = (ev) => { if (stats.state === "streaming") setStatus(`closed (${ev.code})`); };
  node.port.onmessage = (ev) => {
    if (ws.readyState !== WebSocket.OPEN || !sketch) return;
    const y = ds.push(ev.data);
    if (!y.length) return;
    const pcm = new Int16Array(y.length);
    for (let i = 0; i < y.length; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(y[i] * 32767)));
    nSent += y.length;
    sent.push([nSent, performance.now()]);
    ws.send(pcm.buffer);
  };
  if (kind === "file") source.onended = () => stop();
  $("stop").disabled = false;
}

async function stop() {
  if (!session) return;
  const { ctx, media, ws } = session;
  session = null;
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "end" }));
  if (media) media.getTracks().forEach((t) => t.stop());
  await ctx.close();
  $("stop").disabled = true;
}

$("mic").onclick = () => start("mic").catch((e) => { stats.errors.push(String(e)); setStatus("error"); showStats(); });
$("file").onchange = (ev) => ev.target.files[0] && start("file", ev.target.files[0]);
$("stop").onclick = () => stop();
if (params.get("autostart") === "mic") $("mic").click();
showStats();
