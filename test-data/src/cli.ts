#!/usr/bin/env node
/**
 * node test-data/dist/cli.js --region cervical --count N --seed S --out DIR [--width W]
 * The future `spine-cli synth` calls the same generateDataset().
 */
import { parseArgs } from 'node:util';
import { generateDataset } from './dataset.js';

const USAGE = 'usage: cli.js --region cervical|lumbar --count N --seed S --out DIR [--width W] [--start I]';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        region: { type: 'string' },
        count: { type: 'string' },
        seed: { type: 'string', default: '0' },
        out: { type: 'string' },
        width: { type: 'string' },
        start: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const region = values.region;
  const count = Number(values.count);
  const seed = Number(values.seed);
  const width = values.width === undefined ? undefined : Number(values.width);
  const start = values.start === undefined ? undefined : Number(values.start);
  if (
    (region !== 'cervical' && region !== 'lumbar') ||
    !values.out ||
    !Number.isInteger(count) ||
    count < 1 ||
    !Number.isInteger(seed) ||
    seed < 0 ||
    (width !== undefined && !(Number.isInteger(width) && width >= 16 && width <= 8192)) ||
    (start !== undefined && !(Number.isInteger(start) && start >= 0))
  ) {
    console.error(`invalid arguments\n${USAGE}`);
    return 2;
  }
  const t0 = Date.now();
  const tty = process.stderr.isTTY;
  await generateDataset({
    region,
    count,
    seed,
    outDir: values.out,
    width,
    start,
    onProgress(done, total) {
      const s = (Date.now() - t0) / 1000;
      const line = `${done}/${total} films, ${(done / s).toFixed(1)}/s, ETA ${(((total - done) * s) / done).toFixed(0)}s`;
      if (tty) process.stderr.write(`\r${line}`);
      else if (done === total || done % 50 === 0) console.error(line);
    },
  });
  if (tty) process.stderr.write('\n');
  console.log(`wrote ${count} ${region} films, labels.csv and rois.json to ${values.out}`);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
