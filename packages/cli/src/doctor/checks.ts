/**
 * The facts `spine-cli doctor` gathers. Each check returns data (never prints), so the same
 * result renders as text or JSON. The self-test compares two kernels with float64 loops written
 * here on purpose: an independent reference that shares no code with the engine under test.
 */
import { spawnSync } from 'node:child_process';
import { conv2d, convSubgroupMatrixStatus } from '@spine/nn';
import {
  NoAdapterError,
  deviceInfo,
  matmul,
  ready,
  scope,
  subgroupMatrixStatus,
  tensor,
  type DeviceInfo,
  type Tensor,
} from '@spine/tensor/node';
import { mulberry32 } from '@spine/test-data';

export interface NodeCheck {
  ok: boolean;
  version: string;
  platform: string;
  arch: string;
}

export interface AdapterCheck {
  ok: boolean;
  info?: DeviceInfo;
  /** Seconds to acquire the device (Dawn start-up and adapter query). */
  seconds?: number;
  /** Whether f16 products run on subgroup matrices (tensor cores), and why: decided at ready(). */
  subgroupMatrices?: { enabled: boolean; detail: string };
  /** The same for autocast convolutions (@spine/nn's own check). */
  convSubgroupMatrices?: { enabled: boolean; detail: string };
  error?: string;
  /** What to install; from @spine/tensor's NoAdapterError, which carries the setup advice. */
  advice?: string;
}

export interface KernelCheck {
  name: string;
  ok: boolean;
  shape: string;
  maxAbsError?: number;
  tolerance: number;
  /** Wall time of the GPU run including compile and readback, in milliseconds. */
  ms?: number;
  error?: string;
}

export interface PytorchCheck {
  available: boolean;
  python: string;
  version?: string;
  advice?: string;
}

export function checkNode(minMajor: number): NodeCheck {
  const major = Number(process.versions.node.split('.')[0]);
  return { ok: major >= minMajor, version: process.version, platform: process.platform, arch: process.arch };
}

/** `backend`: a Dawn backend to ask for instead of the platform's default (e.g. 'vulkan'). */
export async function checkAdapter(backend?: string): Promise<AdapterCheck> {
  const t0 = performance.now();
  try {
    await ready(backend ? { backend } : {});
    return {
      ok: true,
      info: deviceInfo(),
      seconds: (performance.now() - t0) / 1000,
      subgroupMatrices: subgroupMatrixStatus(),
      convSubgroupMatrices: convSubgroupMatrixStatus(),
    };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof NoAdapterError || (e instanceof Error && e.name === 'NoAdapterError')) {
      // The message is a first line (what failed) followed by the install advice.
      const [first, ...rest] = message.split('\n');
      const advice = [
        ...rest,
        "Then run 'spine-cli doctor' again. In the spine-cli repository, 'npm run setup' (as root) installs lavapipe.",
      ];
      return { ok: false, error: first ?? message, advice: advice.join('\n') };
    }
    return {
      ok: false,
      error: message,
      advice:
        "Run 'npm run setup' to install a WebGPU adapter, or 'node scripts/probe-adapter.mjs --verbose' to see what Dawn reports.",
    };
  }
}

/** A matmul and a conv2d at odd sizes (no tile divides them) against float64 loops. */
export async function kernelSelfTest(): Promise<KernelCheck[]> {
  const rand = mulberry32(20240611);
  const values = (n: number) => Float64Array.from({ length: n }, () => rand() * 2 - 1);
  const checks: KernelCheck[] = [];

  const [M, K, N] = [37, 53, 29];
  const a = values(M * K);
  const b = values(K * N);
  checks.push(
    await runCheck(
      'matmul',
      `[${M},${K}] x [${K},${N}]`,
      1e-4,
      () => matmul(tensor(Float32Array.from(a), [M, K]), tensor(Float32Array.from(b), [K, N])),
      () => {
        const out = new Float64Array(M * N);
        for (let i = 0; i < M; i++)
          for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) out[i * N + j]! += a[i * K + k]! * b[k * N + j]!;
        return out;
      },
    ),
  );

  const [n, c, h, w, oc, kh, kw, stride, pad] = [2, 3, 11, 13, 5, 3, 3, 2, 1];
  const x = values(n * c * h * w);
  const wt = values(oc * c * kh * kw);
  const bias = values(oc);
  const oh = Math.floor((h + 2 * pad - kh) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - kw) / stride) + 1;
  checks.push(
    await runCheck(
      'conv2d',
      `x [${n},${c},${h},${w}], w [${oc},${c},${kh},${kw}], stride ${stride}, padding ${pad}`,
      1e-4,
      () =>
        conv2d(
          tensor(Float32Array.from(x), [n, c, h, w]),
          tensor(Float32Array.from(wt), [oc, c, kh, kw]),
          tensor(Float32Array.from(bias), [oc]),
          { stride, padding: pad },
        ),
      () => {
        const out = new Float64Array(n * oc * oh * ow);
        for (let b0 = 0; b0 < n; b0++)
          for (let o = 0; o < oc; o++)
            for (let y = 0; y < oh; y++)
              for (let z = 0; z < ow; z++) {
                let s = bias[o]!;
                for (let ci = 0; ci < c; ci++)
                  for (let i = 0; i < kh; i++)
                    for (let j = 0; j < kw; j++) {
                      const yy = y * stride - pad + i;
                      const zz = z * stride - pad + j;
                      if (yy >= 0 && yy < h && zz >= 0 && zz < w)
                        s += x[((b0 * c + ci) * h + yy) * w + zz]! * wt[((o * c + ci) * kh + i) * kw + j]!;
                    }
                out[((b0 * oc + o) * oh + y) * ow + z] = s;
              }
        return out;
      },
    ),
  );
  return checks;
}

async function runCheck(
  name: string,
  shape: string,
  tolerance: number,
  gpu: () => Tensor,
  cpu: () => Float64Array,
): Promise<KernelCheck> {
  try {
    const t0 = performance.now();
    const y = scope(gpu);
    const got = await y.data();
    const ms = performance.now() - t0;
    y.dispose();
    const want = cpu();
    if (got.length !== want.length)
      return {
        name,
        ok: false,
        shape,
        tolerance,
        ms,
        error: `output has ${got.length} values, expected ${want.length}`,
      };
    let maxAbsError = 0;
    let ok = true;
    let nonFinite = 0;
    for (let i = 0; i < want.length; i++) {
      const err = Math.abs(got[i]! - want[i]!);
      if (!Number.isFinite(err)) nonFinite++;
      else maxAbsError = Math.max(maxAbsError, err);
      // Written so that NaN fails too.
      if (!(err <= tolerance * (1 + Math.abs(want[i]!)))) ok = false;
    }
    const error =
      nonFinite > 0
        ? `${nonFinite} of ${want.length} outputs are not finite`
        : ok
          ? undefined
          : `error above tolerance (relative ${tolerance})`;
    return { name, ok, shape, maxAbsError, tolerance, ms, ...(error ? { error } : {}) };
  } catch (e) {
    return { name, ok: false, shape, tolerance, error: e instanceof Error ? e.message : String(e) };
  }
}

/** PyTorch is optional: only benchmarks (as the peer) and fixture generators use it. */
export function checkPytorch(python = '/usr/bin/python3'): PytorchCheck {
  const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status === 0) return { available: true, python, version: r.stdout.trim() };
  const advice = r.error
    ? `${python} not found; PyTorch is optional (benchmarks, fixtures). On Debian/Ubuntu: apt-get install python3 python3-torch`
    : 'PyTorch is optional (benchmark peer, fixture generators). On Debian/Ubuntu: apt-get install python3-torch';
  return { available: false, python, advice };
}
