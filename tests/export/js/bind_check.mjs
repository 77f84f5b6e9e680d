// Load an animation .glb with three.js's GLTFLoader under node, bind its clip by morph
// target *name* onto a second, differently named avatar mesh whose morph targets are in
// another order, play it with an AnimationMixer and print the avatar's influences.
// Usage: node bind_check.mjs FILE.glb TIME_S [TIME_S ...]
// Prints JSON: {targetNames, tracks, bound, avatarOrder, samples: [{time, values: {name: w}}],
//               unboundWithoutRemap: the influences when the clip is used unchanged}
import { readFile } from "node:fs/promises";
import * as THREE from "three";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";

// The helper our docs give: one NumberKeyframeTrack per morph target name, resolved by
// three.js through mesh.morphTargetDictionary (so order and mesh name do not matter).
export function bindClipByName(clip, targetNames, mesh) {
  const tracks = [];
  for (const tr of clip.tracks) {
    if (!tr.name.endsWith(".morphTargetInfluences")) continue;
    const k = targetNames.length, n = tr.times.length;
    targetNames.forEach((name, j) => {
      if (!(name in mesh.morphTargetDictionary)) return;
      const v = new Float32Array(n);
      for (let t = 0; t < n; t++) v[t] = tr.values[t * k + j];
      tracks.push(new THREE.NumberKeyframeTrack(
        `${mesh.name}.morphTargetInfluences[${name}]`, tr.times, v, THREE.InterpolateLinear));
    });
  }
  return new THREE.AnimationClip(clip.name, clip.duration, tracks);
}

const [file, ...times] = process.argv.slice(2);
const buf = await readFile(file);
const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
const gltf = await new Promise((ok, err) => new GLTFLoader().parse(ab, "", ok, err));
let src = null;
gltf.scene.traverse((o) => { if (o.isMesh && o.morphTargetDictionary) src = o; });
const targetNames = Object.keys(src.morphTargetDictionary)
  .sort((a, b) => src.morphTargetDictionary[a] - src.morphTargetDictionary[b]);
const clip = gltf.animations[0];

// the user's avatar: another name, its morph targets reversed plus one it has and we don't
function makeAvatar() {
  const geo = new THREE.BufferGeometry();
  geo.setAttribute("position", new THREE.Float32BufferAttribute([0, 0, 0, 1, 0, 0, 0, 1, 0], 3));
  const order = [...targetNames].reverse().concat(["avatarOnlyShape"]);
  geo.morphAttributes.position = order.map((name) => {
    const a = new THREE.Float32BufferAttribute(new Float32Array(9), 3);
    a.name = name;
    return a;
  });
  const mesh = new THREE.Mesh(geo, new THREE.MeshBasicMaterial());
  mesh.name = "Wolf3D_Head";
  mesh.updateMorphTargets();
  const root = new THREE.Group();
  root.name = "Avatar";
  root.add(mesh);
  return { root, mesh, order };
}

function play(root, c, t) {
  const mixer = new THREE.AnimationMixer(root);
  const action = mixer.clipAction(c);
  action.setLoop(THREE.LoopOnce); // play once and hold the last frame (no wrap to 0)
  action.clampWhenFinished = true;
  action.play();
  mixer.setTime(t);
  return mixer;
}

const { root, mesh, order } = makeAvatar();
const bound = bindClipByName(clip, targetNames, mesh);
const samples = times.map(Number).map((t) => {
  play(root, bound, t);
  const values = {};
  for (const name of targetNames) values[name] = mesh.morphTargetInfluences[mesh.morphTargetDictionary[name]];
  values.avatarOnlyShape = mesh.morphTargetInfluences[mesh.morphTargetDictionary.avatarOnlyShape];
  return { time: t, values };
});

// the clip as loaded, unchanged, on the avatar: glTF binds weights by node name + index
const plain = makeAvatar();
const warn = console.warn;
const warnings = [];
console.warn = (...a) => warnings.push(a.join(" "));
play(plain.root, clip, Number(times[0] ?? 0));
console.warn = warn;
process.stdout.write(JSON.stringify({
  targetNames, avatarOrder: order, tracks: clip.tracks.map((t) => t.name),
  bound: bound.tracks.length, samples,
  unboundWithoutRemap: Array.from(plain.mesh.morphTargetInfluences), warnings,
}));
