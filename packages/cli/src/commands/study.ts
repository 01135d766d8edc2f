/** spine-cli study: the paper's experiments (splits, three approaches per region, Tables 1-6) as one resumable pipeline. */
import { resolve } from 'node:path';
import { choiceFlag, integerFlag } from '../ui/args.js';
import { UsageError } from '../ui/errors.js';
import { runStudy } from '../study/pipeline.js';
import { resolveStudySettings } from '../study/resolve.js';
import type { Values } from './command.js';

const NAME = 'study';

export async function run(values: Values): Promise<number> {
  const scale = choiceFlag(NAME, 'scale', (values.scale as string | undefined) ?? 'paper', ['smoke', 'paper'] as const);
  const regionsText = values.regions as string | undefined;
  const regions =
    regionsText === undefined
      ? undefined
      : regionsText.split(',').map((r) => choiceFlag(NAME, 'regions', r.trim(), ['cervical', 'lumbar'] as const));
  if (regions && new Set(regions).size !== regions.length)
    throw new UsageError(`--regions names a region twice: '${regionsText}'`, NAME);
  const settings = resolveStudySettings({
    scale,
    regions,
    cervical: values.cervical as string | undefined,
    lumbar: values.lumbar as string | undefined,
    roiReference: values['roi-reference'] as string | undefined,
  });
  return runStudy({
    out: resolve(values.out as string),
    settings,
    densenetFromScratch: values['densenet-from-scratch'] === true,
    ...(values.workers !== undefined ? { workers: integerFlag(NAME, 'workers', values.workers as string, 0, 64) } : {}),
    argv: process.argv.slice(2),
  });
}
