/** spine-cli doctor: is this machine ready to run spine-cli, and if not, what to install. */
import { releaseDevice, warmerUnavailable } from '@spine/tensor/node';
import { getMatmulTierUp, matmulTexturesMode, matmulTierUpActive } from '@spine/tensor/tuning';
import { EXIT_FAILURE, EXIT_OK } from '../ui/errors.js';
import { packageVersions } from '../version.js';
import type { Values } from './command.js';
import {
  checkAdapter,
  checkNode,
  checkPytorch,
  kernelSelfTest,
  type AdapterCheck,
  type KernelCheck,
  type NodeCheck,
  type PytorchCheck,
} from '../doctor/checks.js';

const MIN_NODE_MAJOR = 20;

export interface DoctorReport {
  /** True when spine-cli can run here: Node, adapter and self-test all pass. PyTorch is optional. */
  ok: boolean;
  node: NodeCheck;
  packages: Record<string, string>;
  adapter: AdapterCheck;
  selfTest: { ok: boolean; checks: KernelCheck[] };
  pytorch: PytorchCheck;
  /** The matmul tier-up (lavapipe only): whether wide blocks get compiled in the background. */
  matmulTierUp: { active: boolean; detail: string };
}

export async function run(values: Values): Promise<number> {
  const report = await doctor({
    skipPytorch: values['skip-pytorch'] === true,
    backend: values.backend as string | undefined,
  });
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
  return report.ok ? EXIT_OK : EXIT_FAILURE;
}

export async function doctor({
  skipPytorch = false,
  backend,
}: {
  skipPytorch?: boolean;
  backend?: string;
} = {}): Promise<DoctorReport> {
  const node = checkNode(MIN_NODE_MAJOR);
  const adapter = await checkAdapter(backend);
  let checks: KernelCheck[] = [];
  let tierUpActive = false;
  let textureOperands = false;
  try {
    checks = adapter.ok ? await kernelSelfTest() : [];
    tierUpActive = adapter.ok && matmulTierUpActive();
    textureOperands = adapter.ok && adapter.info?.kernels === 'cpu' && matmulTexturesMode() !== false;
  } finally {
    // Dawn keeps the process alive while a device is held.
    if (adapter.ok) await releaseDevice();
  }
  const selfTest = { ok: adapter.ok && checks.every((c) => c.ok), checks };
  const pytorch: PytorchCheck = skipPytorch
    ? { available: false, python: '/usr/bin/python3', advice: 'not checked (--skip-pytorch)' }
    : checkPytorch();
  const why = warmerUnavailable();
  const { tm, tn } = getMatmulTierUp().tiles;
  const matmulTierUp = tierUpActive
    ? {
        active: true,
        detail: `hot matmul variants get ${tm}x${tn} blocks compiled in a background process (a one-time cost per machine)`,
      }
    : why !== null
      ? { active: false, detail: `off (${why}): matmul keeps its baseline blocks` }
      : textureOperands
        ? {
            active: false,
            detail: 'not needed: large products read their operands from textures, a kernel that compiles in seconds',
          }
        : { active: false, detail: 'not used on this adapter (only llvmpipe caches compiled shaders on disk)' };
  return {
    ok: node.ok && adapter.ok && selfTest.ok,
    node,
    packages: packageVersions(),
    adapter,
    selfTest,
    pytorch,
    matmulTierUp,
  };
}

function formatReport(r: DoctorReport): string {
  const mark = (ok: boolean) => (ok ? 'ok  ' : 'FAIL');
  const lines = [
    `${mark(r.node.ok)}  Node ${r.node.version} (${r.node.platform}/${r.node.arch})${r.node.ok ? '' : `: spine-cli needs Node >= ${MIN_NODE_MAJOR}`}`,
  ];
  const a = r.adapter;
  if (a.ok && a.info) {
    const i = a.info;
    const name = [i.vendor, i.architecture, i.device].filter(Boolean).join(' / ');
    lines.push(`ok    WebGPU adapter: ${i.description || name}`);
    lines.push(
      `        vendor/architecture: ${name || '(not reported)'}; backend ${i.backend}${i.isFallbackAdapter ? ' (fallback adapter)' : ''}; kernels '${i.kernels}'${i.quietWait ? ', quiet waits (no busy poll)' : ''}; ready in ${a.seconds!.toFixed(2)} s`,
    );
    const l = i.limits;
    lines.push(
      `        limits: storage binding ${mib(l.maxStorageBufferBindingSize)}, buffer ${mib(l.maxBufferSize)}, ${l.maxStorageBuffersPerShaderStage} storage buffers/stage, ${l.maxComputeInvocationsPerWorkgroup} invocations/workgroup, ${l.maxComputeWorkgroupStorageSize} B workgroup memory, ${l.maxComputeWorkgroupsPerDimension} workgroups/dim`,
    );
    lines.push(`        features: ${i.features.length ? i.features.join(', ') : 'none'}`);
    const sm = i.subgroupMatrixConfigs;
    // Dawn lists the experimental feature, and fills the configurations, only for an instance made with allow_unsafe_apis.
    const hidden = i.features.includes('chromium-experimental-subgroup-matrix')
      ? ''
      : " (the feature is listed only with the Dawn flag 'enable-dawn-features=allow_unsafe_apis')";
    lines.push(
      `        subgroup matrices: ${sm.length ? sm.map((c) => `${c.componentType}->${c.resultComponentType} ${c.M}x${c.N}x${c.K}`).join(', ') : `none${hidden}`}`,
    );
    const sizes =
      i.subgroupMaxSize === 0
        ? 'none'
        : i.subgroupMinSize === i.subgroupMaxSize
          ? `${i.subgroupMinSize} invocations`
          : `${i.subgroupMinSize}-${i.subgroupMaxSize} invocations`;
    lines.push(`        subgroups: ${sizes}`);
    if (a.subgroupMatrices) lines.push(`        f16 products on subgroup matrices: ${a.subgroupMatrices.detail}`);
    if (a.convSubgroupMatrices)
      lines.push(`        autocast convolutions on subgroup matrices: ${a.convSubgroupMatrices.detail}`);
  } else {
    lines.push(`FAIL  WebGPU adapter: ${a.error ?? 'not found'}`);
    if (a.advice) lines.push(...a.advice.split('\n').map((s) => `        ${s}`));
  }
  if (!a.ok) lines.push('--    kernel self-test: skipped (no adapter)');
  for (const c of r.selfTest.checks) {
    const detail = c.error ?? `max |error| ${c.maxAbsError!.toExponential(1)}`;
    lines.push(
      `${mark(c.ok)}  self-test ${c.name} ${c.shape}: ${detail}${c.ms === undefined ? '' : `, ${c.ms.toFixed(0)} ms`}`,
    );
  }
  if (a.ok) lines.push(`--    matmul tier-up: ${r.matmulTierUp.detail}`);
  const p = r.pytorch;
  lines.push(
    p.available
      ? `ok    PyTorch ${p.version} (${p.python}), for benchmarks`
      : `--    PyTorch not available (optional): ${p.advice}`,
  );
  lines.push(
    `      packages: ${Object.entries(r.packages)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  lines.push(
    '',
    r.ok ? 'spine-cli is ready to run on this machine.' : 'spine-cli cannot run here yet: fix the FAIL lines above.',
  );
  return lines.join('\n');
}

function mib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}
