// Shared benchmark helpers: timing (median after warm-up), the TensorFlow.js webgpu peer on the
// same Dawn adapter, machine facts, and writing results JSON atomically.
import { execSync, spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const quick = process.argv.includes('--quick');

/** Median wall time (ms) of `reps` runs after `warmup` runs; `run` must wait for the device. */
export async function timeMedian(run, { warmup = 1, reps = quick ? 3 : 5 } = {}) {
  for (let i = 0; i < warmup; i++) await run();
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * How many times one timed sample repeats a case before waiting for the device: 1 on software
 * adapters (a case runs for milliseconds to seconds), more on real GPUs, where one submit-and-wait
 * round trip (tens of microseconds) would otherwise be most of a small kernel's time. Both sides
 * of a comparison use the same count.
 */
export function repeatsPerSample(info) {
  return info.kernels === 'gpu' ? 20 : 1;
}

/** TensorFlow.js 4.22 with its webgpu backend, on a Dawn instance of its own (same adapter). */
export async function loadTfjsWebgpu() {
  try {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    globalThis.navigator = { gpu: create([]), userAgent: 'node' };
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('setBackend(webgpu) failed');
    await tf.ready();
    const backend = tf.backend();
    const info = backend.adapterInfo ?? {};
    /** Submit tfjs' pending commands and wait for the queue. */
    const sync = async () => {
      backend.ensureCommandEncoderReady();
      backend.endComputePassEncoder();
      backend.submitQueue();
      await backend.device.queue.onSubmittedWorkDone();
    };
    return { tf, sync, version: tf.version_core, adapter: `${info.vendor ?? ''} ${info.architecture ?? ''}`.trim() };
  } catch (err) {
    console.warn(`tfjs webgpu peer unavailable: ${err.message}`);
    return null;
  }
}

/**
 * ONNX Runtime for Node (onnxruntime-node, a devDependency of @spine/models) as a whole-model
 * peer, or null when it is not installed. Its WebGPU execution provider runs on a Dawn of its own,
 * built into libonnxruntime: the Node binding takes no device from outside, so it picks its own
 * adapter (the default one; on a machine with one GPU, or only lavapipe, the same physical adapter
 * as ours). Its CPU provider uses a thread per physical core unless told otherwise.
 */
export async function loadOnnxRuntime() {
  try {
    const mod = await import('onnxruntime-node');
    const ort = mod.default ?? mod;
    const backends = ort
      .listSupportedBackends?.()
      .filter((b) => b.bundled)
      .map((b) => b.name) ?? ['cpu'];
    return { ort, version: ort.env.versions?.node ?? ort.env.versions?.common ?? 'unknown', backends };
  } catch (err) {
    console.warn(`ONNX Runtime peer unavailable: ${err.message}`);
    return null;
  }
}

/**
 * PyTorch CPU on this machine as a second peer (Debian's /usr/bin/python3 with torch), for the
 * same cases described as plain JSON (see bench/torch_peer.py; a suite may bring its own script
 * with the same protocol, e.g. a whole model's). Returns null when torch is missing, so
 * benchmarks still run without it.
 */
export function runTorchPeer(cases, script = new URL('./torch_peer.py', import.meta.url).pathname) {
  const python = process.env.SPINE_TORCH_PYTHON ?? '/usr/bin/python3';
  const r = spawnSync(python, [script, ...(quick ? ['--quick'] : [])], {
    input: JSON.stringify(cases),
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (r.status !== 0) {
    console.warn(`PyTorch CPU peer unavailable (${(r.stderr || r.error?.message || '').trim().split('\n').at(-1)})`);
    return null;
  }
  return JSON.parse(r.stdout);
}

/**
 * Fill `torchRate` for the cases that carry a `torchCase` (and a `work` amount: FLOPs for a
 * GFLOP/s case; with `workScale: 1`, units of the case's own, e.g. images for images/s), by one
 * run of the PyTorch peer after ours. Returns the peer's facts for the results file (null without torch).
 */
export function attachTorchRates(cases, script) {
  const withTorch = cases.filter((c) => c.torchCase);
  const torch = withTorch.length
    ? runTorchPeer(
        withTorch.map((c) => c.torchCase),
        script,
      )
    : null;
  if (torch)
    withTorch.forEach(
      (c, i) => (c.torchRate = torch.ms[i] == null ? null : c.work / (torch.ms[i] / 1e3) / (c.workScale ?? 1e9)),
    );
  // The peer's process CPU time per run, kept where the case records its own (cpuMs).
  if (torch?.cpuMs) withTorch.forEach((c, i) => c.cpuMs !== undefined && (c.torchCpuMs = torch.cpuMs[i] ?? null));
  for (const c of cases) delete c.torchCase;
  // convTf32: the peer's f32 convolutions ran on TF32 tensor cores (PyTorch's default on CUDA),
  // except in cases that ask for full f32 (torchCase.tf32 false).
  return torch
    ? {
        version: torch.torch,
        threads: torch.threads,
        device: torch.device ?? 'CPU',
        ...(torch.convTf32 ? { convTf32: true } : {}),
      }
    : null;
}

export function machineFacts() {
  // A lent GPU machine's checkout may report an older HEAD than the code it runs: bench/gpu/pack.sh
  // records the commit the bundle was built from and bench/gpu/setup.sh exports it.
  let commit = process.env.SPINE_BENCH_COMMIT || 'unknown';
  if (!process.env.SPINE_BENCH_COMMIT) {
    try {
      commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim();
    } catch {}
  }
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
    commit,
    quick,
  };
}

export function writeResults(root, name, data) {
  const dir = path.join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n');
  renameSync(tmp, file);
  return file;
}

/**
 * The end of every suite: the PyTorch peer for the cases that have one (after ours, so it never
 * competes with them), then `bench/results/<suite>-<adapter>.json` with the machine (and its
 * load average: rates on a shared software adapter swing with other load), adapter and peers.
 * `torchScript`: a suite's own PyTorch peer script (bench/torch_peer.py's protocol) for its cases.
 * `notes`: markdown lines the report prints under the suite's table (how the run was set up).
 * `peers`: further peers, `{ id, name, column }` each (column: the table's short heading), whose
 * rates the cases carry as `peers[id] = { ms, rate }`.
 */
export function finishSuite(root, suite, info, peer, cases, { torchScript, notes, peers } = {}) {
  const torch = attachTorchRates(cases, torchScript);
  // A --quick smoke run never replaces a full run's results (report.mjs skips it).
  // Real GPUs' descriptions name only the driver: the card (adapter info's device) goes first.
  const card = info.isFallbackAdapter ? '' : (info.device ?? '');
  const name = `${suite}-${slug(`${card} ${info.description || info.device || info.vendor}`)}${quick ? '-quick' : ''}`;
  const file = writeResults(root, name, {
    suite,
    machine: { ...machineFacts(), loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100) },
    adapter: {
      ...info,
      summary: `${info.vendor} ${card || info.architecture} ${info.description}`.replace(/\s+/g, ' ').trim(),
    },
    peer: peer ? { name: `TensorFlow.js ${peer.version} webgpu`, adapter: peer.adapter } : null,
    torch,
    ...(peers?.length ? { peers } : {}),
    cases,
    ...(notes?.length ? { notes } : {}),
  });
  console.log(`wrote ${path.relative(root, file)}`);
  return file;
}

export function slug(s) {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40)
    .replace(/-$/, '');
}

/**
 * On lavapipe, warm the tiered wide matmul block for these transpose variants before timing
 * (steady state; a long run gets there by itself after some 15 minutes of matmul work) and
 * return a note saying so, with how long it took. Elsewhere, nothing.
 */
export async function warmMatmulForBench(T, info, variants) {
  if (info.kernels !== 'cpu') return [];
  const tuning = await import('@spine/tensor/tuning');
  const t0 = performance.now();
  const warmed = await tuning.warmMatmul(variants);
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  const { tm, tn } = tuning.getMatmulTierUp().tiles;
  const line = warmed
    ? `- Matmul (${variants.map((v) => `${v.transA ? 'Aᵀ' : 'A'}·${v.transB ? 'Bᵀ' : 'B'}`).join(', ')}) ran the tiered ${tm}x${tn} block, warmed before timing by \`warmMatmul\` in ${s} s (a one-time compile per machine: minutes on a cold Mesa shader cache); until a variant is warm it runs the 16x8 baseline.`
    : tuning.matmulTexturesMode() !== false
      ? `- Matmul read its operands from textures (${info.subgroupMinSize >= 8 ? "the 32x8 texture-operand kernel, A broadcast across each workgroup's subgroup" : 'the 16x16 texture-operand kernel'}) wherever they fit; products under 1 MFLOP ran the 16x8 buffer baseline.`
      : `- Matmul ran the 16x8 baseline: no kernel warmer here (${T.warmerUnavailable?.() ?? 'not llvmpipe'}).`;
  console.log(line.slice(2));
  return [line];
}
