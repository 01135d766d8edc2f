import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

describe('doctor', () => {
  it('--json prints one object whose ok matches the exit code', async () => {
    const r = await runCli(['doctor', '--json']);
    const report = JSON.parse(r.stdout) as Record<string, any>;
    expect(r.code).toBe(report.ok ? 0 : 1);
    expect(report.node).toMatchObject({ ok: true, version: process.version });
    expect(report.packages).toMatchObject({ 'spine-cli': '0.1.0', '@spine/tensor': '0.1.0', '@spine/models': '0.1.0' });
    expect(typeof report.pytorch.available).toBe('boolean');
    if (!report.pytorch.available) expect(report.pytorch.advice).toContain('python3-torch');
    if (report.adapter.ok) {
      expect(Object.keys(report.adapter.info)).toEqual(
        expect.arrayContaining(['vendor', 'architecture', 'description', 'backend', 'kernels', 'limits']),
      );
      expect(report.adapter.info.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
      // The adapter's optional features and subgroup-matrix shapes (none on lavapipe).
      expect(report.adapter.info.features).toEqual([...report.adapter.info.features].sort());
      expect(report.adapter.info.features.length).toBeGreaterThan(0);
      expect(Array.isArray(report.adapter.info.subgroupMatrixConfigs)).toBe(true);
      for (const c of report.adapter.info.subgroupMatrixConfigs)
        expect(Object.keys(c).sort()).toEqual(['K', 'M', 'N', 'componentType', 'resultComponentType']);
      expect(report.selfTest.checks.map((c: { name: string }) => c.name)).toEqual(['matmul', 'conv2d']);
      for (const c of report.selfTest.checks) {
        expect(c.ok).toBe(true);
        expect(c.maxAbsError).toBeLessThan(1e-4);
      }
      expect(report.ok).toBe(true);
      // The tests run with SPINE_TENSOR_WARMER=0 (vitest.config.ts), and the CLI inherits it.
      expect(report.matmulTierUp.active).toBe(false);
      expect(report.matmulTierUp.detail).toMatch(/SPINE_TENSOR_WARMER=0/);
    } else {
      // No adapter: the report says what to install (NoAdapterError's advice) and the command fails.
      expect(report.adapter.advice).toMatch(/lavapipe|Vulkan|setup/);
      expect(r.code).toBe(1);
    }
  });

  it('without an adapter: FAIL, what to install, exit 1', async () => {
    // Dawn has no Direct3D 12 on Linux or macOS, so asking for it finds no adapter there.
    if (process.platform === 'win32') return;
    const json = await runCli(['doctor', '--json', '--skip-pytorch', '--backend', 'd3d12']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as Record<string, any>;
    expect(report).toMatchObject({ ok: false, adapter: { ok: false }, selfTest: { ok: false, checks: [] } });
    expect(report.adapter.error).toContain('No WebGPU adapter');
    expect(report.adapter.advice).toContain('lavapipe');
    const text = await runCli(['doctor', '--skip-pytorch', '--backend', 'd3d12']);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^FAIL {2}WebGPU adapter: No WebGPU adapter/m);
    expect(text.stdout).toContain('mesa-vulkan-drivers');
    expect(text.stdout).toContain('kernel self-test: skipped (no adapter)');
    expect(text.stdout).toContain('spine-cli cannot run here yet');
  });

  it('prints a readable report', async () => {
    const r = await runCli(['doctor', '--skip-pytorch']);
    expect(r.stdout).toMatch(/^ok {4}Node v\d+/);
    expect(r.stdout).toContain('WebGPU adapter');
    expect(r.stdout).toMatch(/^ {8}features: \S/m);
    expect(r.stdout).toMatch(/^ {8}subgroup matrices: /m);
    if (/llvmpipe/.test(r.stdout)) expect(r.stdout).toMatch(/^ {8}subgroup matrices: none/m);
    // What ready() decided for f16 products, and why (off on lavapipe: no such feature).
    expect(r.stdout).toMatch(/^ {8}subgroups: (none|\d+(-\d+)? invocations)$/m);
    expect(r.stdout).toMatch(/^ {8}f16 products on subgroup matrices: (on|off): /m);
    expect(r.stdout).toMatch(/^ {8}autocast convolutions on subgroup matrices: (on|off)[:,] /m);
    if (/llvmpipe/.test(r.stdout)) {
      expect(r.stdout).toMatch(/f16 products on subgroup matrices: off: the device does not list/);
      expect(r.stdout).toMatch(/autocast convolutions on subgroup matrices: off, as for f16 products/);
    }
    expect(r.stdout).toContain('PyTorch not available (optional): not checked (--skip-pytorch)');
    expect(r.stdout).toMatch(/spine-cli (is ready|cannot run here yet)/);
  });
});
