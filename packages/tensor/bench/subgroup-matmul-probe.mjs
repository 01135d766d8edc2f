// Raw WGSL on one Dawn device, outside the engine: what the texture matmul's time goes to on
// llvmpipe, and the subgroup broadcast of A (src/ops/matmul/matmul-texture.ts). One product C = A·B of
// M x N x K (env M, N, K; default 32 x 3136 x 128, a DenseNet 1x1 conv), both operands in
// rgba32float textures, each variant a register block TMxTN per lane, 8 lanes (wW: W lanes, not sgA),
// round-robin over ROUNDS rounds of REPS dispatches. Variants:
//   texTMxTN     every lane fetches its A rows and B columns (the kernel before subgroups);
//   sgATMxTN     lane l fetches row l of each group of 8 rows of A, subgroupBroadcast shares it;
//   sgAbufTMxTN  sgA with A read from a storage buffer (no staged A texture): 0.89-0.91x of sgA
//                at 128x3136x256 and 32x896x128, more than staging A costs;
//   uboTMxTN     A from a uniform buffer (M·K <= 16384);
//   fakeBTMxTN   B replaced by values computed from the indices (no B fetches; wrong results);
//   fakeABTMxTN  A and B both computed (no fetches at all: the arithmetic's own ceiling).
// A tuning aid, not part of `npm run bench`. Usage: node bench/subgroup-matmul-probe.mjs tex16x16 sgA32x8 ...
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const si = globalThis.setImmediate;
globalThis.setImmediate = (fn, ...a) => (a.length ? si(fn, ...a) : setTimeout(fn, 1));
const M = Number(process.env.M ?? 32),
  N = Number(process.env.N ?? 3136),
  K = Number(process.env.K ?? 128);
const rounds = Number(process.env.ROUNDS ?? 7);
const names = process.argv.length > 2 ? process.argv.slice(2) : ['tex16x16', 'sgA32x8', 'fakeB16x16', 'fakeAB16x16'];
const R = (k) => Array.from({ length: k }, (_, i) => i);
function kernel(mode, tm, tn, wx) {
  const L = [
    mode.startsWith('sgA') ? 'enable subgroups;' : '',
    'struct Params { d: array<vec4<u32>, 1> }',
    '@group(0) @binding(0) var<uniform> params: Params;',
    mode === 'ubo'
      ? `@group(0) @binding(1) var<uniform> Au: array<vec4<f32>, ${(M * K) / 4}>;`
      : mode === 'sgAbuf'
        ? '@group(0) @binding(1) var<storage, read> Ab: array<vec4<f32>>;'
        : mode === 'fakeAB'
          ? ''
          : '@group(0) @binding(1) var At: texture_2d<f32>;',
    mode.startsWith('fake') ? '' : '@group(0) @binding(2) var Bt: texture_2d<f32>;',
    '@group(0) @binding(3) var<storage, read_write> C: array<vec4<f32>>;',
    `@compute @workgroup_size(${wx}, 1)`,
    'fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {',
    '  let M = params.d[0].x; let N = params.d[0].y; let K4 = params.d[0].z / 4u;',
    `  let row0 = wid.x * ${tm}u; let col0 = (wid.y * ${wx}u + lid.x) * ${tn}u; let bx = col0 / 4u;`,
  ];
  for (const r of R(tm)) for (const c of R(tn)) L.push(`  var acc_${r}_${c} = 0.0;`);
  L.push('  for (var k = 0u; k < K4; k++) {');
  if (mode.startsWith('sgA')) {
    for (const h of R(tm / wx))
      L.push(
        mode === 'sgAbuf'
          ? `    let al${h} = Ab[(row0 + ${h * wx}u + lid.x) * K4 + k];`
          : `    let al${h} = textureLoad(At, vec2<u32>(k, row0 + ${h * wx}u + lid.x), 0);`,
      );
    for (const r of R(tm)) L.push(`    let a${r} = subgroupBroadcast(al${Math.floor(r / wx)}, ${r % wx}u);`);
  } else
    for (const r of R(tm))
      L.push(
        mode === 'ubo'
          ? `    let a${r} = Au[(row0 + ${r}u) * K4 + k];`
          : mode === 'fakeAB'
            ? `    let a${r} = vec4<f32>(f32(k), f32(row0 + ${r}u), 0.5, 0.25);`
            : `    let a${r} = textureLoad(At, vec2<u32>(k, row0 + ${r}u), 0);`,
      );
  for (const kk of R(4))
    for (const q of R(tn / 4))
      L.push(
        mode.startsWith('fake')
          ? `    let b${kk}_${q} = vec4<f32>(f32(k + ${kk}u), f32(bx + ${q}u), 1.0, 2.0);`
          : `    let b${kk}_${q} = textureLoad(Bt, vec2<u32>(bx + ${q}u, 4u * k + ${kk}u), 0);`,
      );
  for (const r of R(tm))
    for (const c of R(tn)) {
      const q = c >> 2,
        s = 'xyzw'[c & 3];
      L.push(
        `    acc_${r}_${c} += a${r}.x * b0_${q}.${s} + a${r}.y * b1_${q}.${s} + a${r}.z * b2_${q}.${s} + a${r}.w * b3_${q}.${s};`,
      );
    }
  L.push('  }');
  for (const r of R(tm)) {
    L.push(`  if (row0 + ${r}u < M) {`);
    for (const q of R(tn / 4))
      L.push(
        `    if (col0 + ${4 * q}u < N) { C[((row0 + ${r}u) * N + col0) / 4u + ${q}u] = vec4<f32>(${R(4)
          .map((j) => `acc_${r}_${4 * q + j}`)
          .join(', ')}); }`,
      );
    L.push('  }');
  }
  L.push('}');
  return L.join('\n');
}
function variant(name) {
  const m = /^(ubo|tex|fakeB|fakeAB|sgAbuf|sgA)(\d+)x(\d+)(?:w(\d+))?$/.exec(name);
  const [tm, tn, wx] = [Number(m[2]), Number(m[3]), Number(m[4] ?? 8)];
  return {
    name,
    mode: m[1],
    wgsl: kernel(m[1], tm, tn, wx),
    dispatch: [Math.ceil(M / tm), Math.ceil(N / (wx * tn)), 1],
  };
}
const gpu = create([]); // keep the instance referenced: collecting it tears Dawn down mid-run
const adapter = await gpu.requestAdapter();
console.log('maxUniformBufferBindingSize', adapter.limits.maxUniformBufferBindingSize);
console.log('subgroup sizes', adapter.info.subgroupMinSize, adapter.info.subgroupMaxSize);
const device = await adapter.requestDevice({
  requiredFeatures: ['subgroups'],
  requiredLimits: { maxUniformBufferBindingSize: adapter.limits.maxUniformBufferBindingSize },
});
const S = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
const buffer = (data, usage) => {
  const b = device.createBuffer({ size: data.byteLength, usage, mappedAtCreation: true });
  new Uint8Array(b.getMappedRange()).set(new Uint8Array(data.buffer));
  b.unmap();
  return b;
};
const texture = (data, cols, rows) => {
  const t = device.createTexture({
    size: [cols / 4, rows],
    format: 'rgba32float',
    usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
  });
  device.queue.writeTexture({ texture: t }, data, { bytesPerRow: cols * 4 }, [cols / 4, rows]);
  return t;
};
const A = new Float32Array(M * K).map(() => Math.random() - 0.5);
const B = new Float32Array(K * N).map(() => Math.random() - 0.5);
const ops = {
  Ab: buffer(A, GPUBufferUsage.STORAGE),
  Au: buffer(A, GPUBufferUsage.UNIFORM),
  At: texture(A, K, M),
  Bt: texture(B, N, K),
};
const C = device.createBuffer({ size: M * N * 4, usage: S });
const params = buffer(new Uint32Array([M, N, K, 0]), GPUBufferUsage.UNIFORM);
const read = device.createBuffer({ size: M * N * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
const ref = (i, j) => {
  let s = 0;
  for (let k = 0; k < K; k++) s += A[i * K + k] * B[k * N + j];
  return s;
};
const runs = [];
for (const v of names.map(variant)) {
  const pipe = device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code: v.wgsl }), entryPoint: 'main' },
  });
  const res = [
    { buffer: params },
    v.mode === 'ubo' ? { buffer: ops.Au } : v.mode === 'sgAbuf' ? { buffer: ops.Ab } : ops.At.createView(),
    ops.Bt.createView(),
    { buffer: C },
  ].filter((r, i) => !((v.mode === 'fakeAB' && (i === 1 || i === 2)) || (v.mode === 'fakeB' && i === 2)));
  const bg = device.createBindGroup({
    layout: pipe.getBindGroupLayout(0),
    entries: res.map((resource, i) => ({
      binding: [0, 1, 2, 3].filter(
        (b) => !((v.mode === 'fakeAB' && (b === 1 || b === 2)) || (v.mode === 'fakeB' && b === 2)),
      )[i],
      resource,
    })),
  });
  const go = async (reps = 1) => {
    const e = device.createCommandEncoder();
    const p = e.beginComputePass();
    p.setPipeline(pipe);
    p.setBindGroup(0, bg);
    for (let i = 0; i < reps; i++) p.dispatchWorkgroups(...v.dispatch);
    p.end();
    device.queue.submit([e.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await go();
  const e = device.createCommandEncoder();
  e.copyBufferToBuffer(C, 0, read, 0, M * N * 4);
  device.queue.submit([e.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  let err = 0;
  for (const [i, j] of [
    [0, 0],
    [M - 1, N - 1],
    [3, 17],
    [M >> 1, N >> 1],
  ])
    err = Math.max(err, Math.abs(out[i * N + j] - ref(i, j)));
  console.log(`${v.name}: max error ${err.toExponential(1)}`);
  runs.push({ name: v.name, go, t: [] });
}
const reps = Number(process.env.REPS ?? 10);
for (let r = 0; r < rounds; r++)
  for (const x of runs) {
    const t0 = performance.now();
    await x.go(reps);
    x.t.push((performance.now() - t0) / reps);
  }
const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
for (const x of runs)
  console.log(
    `${x.name.padEnd(12)} ${((2 * M * N * K) / median(x.t) / 1e6).toFixed(2)} GFLOP/s  ${median(x.t).toFixed(2)} ms`,
  );
process.exit(0);
