// spine-cli weights import of torchvision ResNet checkpoints written by torch.save: the imported
// safetensors file loads strictly into @spine/models' ResNet and gives torchvision's eval logits
// within 1e-4 relative. Always: the committed tiny checkpoints (torchvision's own blocks at narrow
// widths, packages/models/fixtures/resnet). Where /usr/bin/python3 has PyTorch and torchvision:
// full-size resnet18 and resnet50 written at test time by scripts/make-resnet-checkpoint.py.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { ResNet, readWeightsFile, resnet18, resnet50, type ResNetConfig } from '@spine/models';
import { repoRoot, runCli } from './run-cli.js';

const fixtures = join(repoRoot, 'packages/models/fixtures/resnet');
const dir = mkdtempSync(join(tmpdir(), 'spine-cli-weights-resnet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await T.ready();
});

interface Logits {
  shape: number[];
  data: number[];
}

/** Import `pth` with the CLI, load the result strictly into `model`, compare eval logits. */
async function importAndCompare(
  pth: string,
  model: ResNet,
  input: Logits,
  want: Logits,
  parameterCount: number,
): Promise<void> {
  const out = join(dir, `${model.config.block}-${model.parameterCount()}.safetensors`);
  const r = await runCli(['weights', 'import', pth, '--out', out, '--force']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(
    `(torch-zip): ${model.stateDict().size} tensors, ${parameterCount.toLocaleString('en-US')} parameters\nWrote ${out}\n`,
  );
  const file = await readWeightsFile(out);
  expect(file.format).toBe('safetensors');
  expect(model.loadStateDict(file.tensors, true)).toEqual({ missingKeys: [], unexpectedKeys: [] });
  model.eval();
  const x = T.tensor(Float32Array.from(input.data), input.shape);
  const y = T.noGrad(() => model.forward(x));
  expect(y.shape).toEqual(want.shape);
  const got = await y.data();
  let worst = 0;
  let scale = 0;
  want.data.forEach((v, i) => {
    worst = Math.max(worst, Math.abs(got[i]! - v));
    scale = Math.max(scale, Math.abs(v));
  });
  if (process.env.SPINE_PARITY_REPORT)
    console.info(`${pth}: max |ours - torchvision| / max |torchvision| = ${(worst / scale).toExponential(2)}`);
  expect(worst / scale, 'max |ours - torchvision| / max |torchvision|').toBeLessThan(1e-4);
  x.dispose();
  y.dispose();
  model.dispose();
}

describe('weights import: torchvision ResNet checkpoints', () => {
  const tiny = JSON.parse(readFileSync(join(fixtures, 'tiny.json'), 'utf8')) as {
    input: Logits;
    files: Record<
      string,
      {
        config: Pick<ResNetConfig, 'block' | 'layers' | 'widths' | 'numClasses'>;
        parameterCount: number;
        logits: Logits;
      }
    >;
  };
  it.each(Object.keys(tiny.files))(
    '%s.pth (torch.save of torchvision blocks): imported file gives torchvision’s logits',
    async (name) => {
      const f = tiny.files[name]!;
      const model = new ResNet({ ...f.config, zeroInitResidual: false, groups: 1, widthPerGroup: 64 });
      await importAndCompare(join(fixtures, `${name}.pth`), model, tiny.input, f.logits, f.parameterCount);
    },
  );
});

function hasTorchvision(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch, torchvision'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!hasTorchvision())(
  'weights import: full-size resnet18 and resnet50 written by torch.save (needs PyTorch)',
  () => {
    beforeAll(() => {
      execFileSync(
        '/usr/bin/python3',
        [join(repoRoot, 'packages/models/scripts/make-resnet-checkpoint.py'), dir, 'resnet18', 'resnet50'],
        { stdio: 'inherit' },
      );
    }, 300_000);

    it.each([
      ['resnet18', resnet18],
      ['resnet50', resnet50],
    ] as const)(
      '%s: imported checkpoint gives torchvision’s eval logits at 224 px within 1e-4',
      { timeout: 300_000 },
      async (arch, make) => {
        const ref = JSON.parse(readFileSync(join(dir, `${arch}.json`), 'utf8')) as {
          parameterCount: number;
          input: Logits;
          logits: Logits;
        };
        await importAndCompare(join(dir, `${arch}.pth`), make(), ref.input, ref.logits, ref.parameterCount);
      },
    );
  },
);
