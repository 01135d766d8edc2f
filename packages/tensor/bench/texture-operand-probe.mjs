// Raw WGSL on one Dawn device, outside the engine: the same register-blocked matmul reading its
// operands from storage buffers or from textures (rgba32float, the matrices' own layout: texel
// (c/4, r) holds row r, columns c..c+3), round-robin, 1024³. The experiment behind the texture
// matmul (src/ops/matmul/matmul-texture.ts; docs/PERFORMANCE.md, "Texture operands"). A tuning aid, not part
// of `npm run bench`. Usage: node bench/texture-operand-probe.mjs [variant ...] (N=, ROUNDS=)
// Variants: buf16x8 (A, B buffers), texA16x16 (A texture, B buffer), texB16x16 (A buffer, whose
// loads are uniform across a workgroup's lanes, B texture), tex16x16, tex32x16 (both textures);
// TMxTN suffixes may be changed, e.g. tex8x16.
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
// Poll Dawn once a millisecond while waiting (what the engine's quiet waits do).
const si = globalThis.setImmediate;
globalThis.setImmediate = (fn, ...a) => (a.length ? si(fn, ...a) : setTimeout(fn, 1));
const n = Number(process.env.N ?? 1024);
const rounds = Number(process.env.ROUNDS ?? 5);
const names = process.argv.length > 2 ? process.argv.slice(2) : ['buf16x8', 'texA16x16', 'tex16x16'];
const R = (k) => Array.from({ length: k }, (_, i) => i);

function kernel(texA, texB, tm, tn) {
  const L = [
    'struct Params { d: array<vec4<u32>, 1> }',
    '@group(0) @binding(0) var<uniform> params: Params;',
    texA
      ? '@group(0) @binding(1) var At: texture_2d<f32>;'
      : '@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;',
    texB
      ? '@group(0) @binding(2) var Bt: texture_2d<f32>;'
      : '@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;',
    '@group(0) @binding(3) var<storage, read_write> C: array<f32>;',
    '@compute @workgroup_size(8, 1)',
    'fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {',
    '  let M = params.d[0].x; let N = params.d[0].y; let K4 = params.d[0].z / 4u; let N4 = N / 4u;',
    `  let row0 = wid.x * ${tm}u; let col0 = (wid.y * 8u + lid.x) * ${tn}u;`,
  ];
  for (const r of R(tm)) for (const c of R(tn)) L.push(`  var acc_${r}_${c} = 0.0;`);
  for (const r of R(tm)) L.push(`  let ar${r} = min(row0 + ${r}u, M - 1u);`);
  for (const q of R(tn / 4)) L.push(`  let bc${q} = min(col0 / 4u + ${q}u, N4 - 1u);`);
  L.push('  for (var k = 0u; k < K4; k++) {');
  for (const r of R(tm))
    L.push(texA ? `    let a${r} = textureLoad(At, vec2<u32>(k, ar${r}), 0);` : `    let a${r} = A[ar${r} * K4 + k];`);
  for (const kk of R(4))
    for (const q of R(tn / 4))
      L.push(
        texB
          ? `    let b${kk}_${q} = textureLoad(Bt, vec2<u32>(bc${q}, 4u * k + ${kk}u), 0);`
          : `    let b${kk}_${q} = B[bc${q} + (4u * k + ${kk}u) * N4];`,
      );
  for (const r of R(tm))
    for (const c of R(tn)) {
      const q = c >> 2;
      const s = 'xyzw'[c & 3];
      L.push(
        `    acc_${r}_${c} += a${r}.x * b0_${q}.${s} + a${r}.y * b1_${q}.${s} + a${r}.z * b2_${q}.${s} + a${r}.w * b3_${q}.${s};`,
      );
    }
  L.push('  }');
  for (const r of R(tm))
    for (const c of R(tn))
      L.push(`  if (row0 + ${r}u < M && col0 + ${c}u < N) { C[(row0 + ${r}u) * N + col0 + ${c}u] = acc_${r}_${c}; }`);
  L.push('}');
  return L.join('\n');
}

function variant(name) {
  const m = /^(buf|texA|texB|tex)(\d+)x(\d+)$/.exec(name);
  if (!m) throw new Error(`unknown variant ${name}`);
  const [tm, tn] = [Number(m[2]), Number(m[3])];
  const texA = m[1] === 'texA' || m[1] === 'tex';
  const texB = m[1] === 'texB' || m[1] === 'tex';
  return {
    name,
    texA,
    texB,
    tm,
    tn,
    wgsl: kernel(texA, texB, tm, tn),
    dispatch: [Math.ceil(n / tm), Math.ceil(n / (8 * tn)), 1],
  };
}

const gpu = create([]); // keep the instance referenced: collecting it tears Dawn down mid-run
const adapter = await gpu.requestAdapter();
const device = await adapter.requestDevice({
  requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize },
});
const S = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
const buffer = (data, usage) => {
  const b = device.createBuffer({ size: data.byteLength, usage, mappedAtCreation: true });
  new Uint8Array(b.getMappedRange()).set(new Uint8Array(data.buffer));
  b.unmap();
  return b;
};
const texture = (data) => {
  const t = device.createTexture({
    size: [n / 4, n],
    format: 'rgba32float',
    usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
  });
  device.queue.writeTexture({ texture: t }, data, { bytesPerRow: n * 4 }, [n / 4, n]);
  return t;
};
const A = new Float32Array(n * n).map(() => Math.random() - 0.5);
const B = new Float32Array(n * n).map(() => Math.random() - 0.5);
const ops = { A: buffer(A, S), B: buffer(B, S), At: texture(A), Bt: texture(B) };
const C = device.createBuffer({ size: n * n * 4, usage: S });
const params = buffer(new Uint32Array([n, n, n, 0]), GPUBufferUsage.UNIFORM);
const read = device.createBuffer({ size: n * n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
const ref = (i, j) => {
  let s = 0;
  for (let k = 0; k < n; k++) s += A[i * n + k] * B[k * n + j];
  return s;
};

const runs = [];
for (const v of names.map(variant)) {
  const t0 = performance.now();
  const pipe = device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code: v.wgsl }), entryPoint: 'main' },
  });
  const res = [
    { buffer: params },
    v.texA ? ops.At.createView() : { buffer: ops.A },
    v.texB ? ops.Bt.createView() : { buffer: ops.B },
    { buffer: C },
  ];
  const bg = device.createBindGroup({
    layout: pipe.getBindGroupLayout(0),
    entries: res.map((resource, binding) => ({ binding, resource })),
  });
  const go = async () => {
    const e = device.createCommandEncoder();
    const p = e.beginComputePass();
    p.setPipeline(pipe);
    p.setBindGroup(0, bg);
    p.dispatchWorkgroups(...v.dispatch);
    p.end();
    device.queue.submit([e.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await go();
  const e = device.createCommandEncoder();
  e.copyBufferToBuffer(C, 0, read, 0, n * n * 4);
  device.queue.submit([e.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  let err = 0;
  for (const [i, j] of [
    [0, 0],
    [n - 1, n - 1],
    [17, 300],
    [513, 77],
  ])
    err = Math.max(err, Math.abs(out[i * n + j] - ref(i, j)));
  console.log(
    `${v.name}: compile + first run ${(performance.now() - t0).toFixed(0)} ms, max error ${err.toExponential(1)}`,
  );
  runs.push({ name: v.name, go, t: [] });
}
for (let r = 0; r < rounds; r++)
  for (const x of runs) {
    const t0 = performance.now();
    await x.go();
    x.t.push(performance.now() - t0);
  }
const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
for (const x of runs) console.log(`${x.name.padEnd(12)} ${((2 * n ** 3) / median(x.t) / 1e6).toFixed(2)} GFLOP/s`);
process.exit(0);
