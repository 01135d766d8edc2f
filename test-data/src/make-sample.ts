/**
 * Regenerates the committed sample (npm run sample -w @spine/test-data): deterministic, so a rerun
 * reproduces the committed files byte for byte.
 *   sample/cervical/       labelled cervical films, 256 px wide
 *   sample/lumbar/         labelled lumbar films, 256 px wide
 *   sample/cervical-roi/   136 ROI-marked cervical reference films (boxes in rois.json)
 *   sample/contact-sheet.png
 */
import { join } from 'node:path';
import { contactSheet, drawRect, encodePng, imageFromGrey8, toRgb } from '@spine/imaging';
import { writeFileAtomic } from '@spine/imaging/node';
import { generateDataset } from './dataset.js';
import { sampleSubject, type Region } from './phantom.js';
import { renderFilm } from './render.js';

export const SAMPLE = {
  width: 256,
  labelled: 120,
  roiReference: 136,
  seeds: { cervical: 1, lumbar: 2, roiReference: 3 },
} as const;

async function main(): Promise<void> {
  const root = process.argv[2] ?? join(import.meta.dirname, '..', 'sample');
  for (const region of ['cervical', 'lumbar'] as Region[]) {
    await generateDataset({ region, count: SAMPLE.labelled, seed: SAMPLE.seeds[region], outDir: join(root, region), width: SAMPLE.width });
  }
  await generateDataset({
    region: 'cervical',
    count: SAMPLE.roiReference,
    seed: SAMPLE.seeds.roiReference,
    outDir: join(root, 'cervical-roi'),
    width: SAMPLE.width,
  });
  // Contact sheet: 8 cervical and 8 lumbar films with their ROI boxes in red, rendered larger.
  const tiles = [];
  for (const region of ['cervical', 'lumbar'] as Region[]) {
    for (let i = 0; i < 8; i++) {
      const film = renderFilm(sampleSubject(region, SAMPLE.seeds[region], i), SAMPLE.seeds[region] + i, 320);
      const rgb = toRgb(imageFromGrey8(film.width, film.height, film.pixels));
      tiles.push(drawRect(rgb, film.roi, [1, 0.2, 0.2], 2));
    }
  }
  const sheet = contactSheet(tiles, { columns: 8, cellWidth: 160, cellHeight: 194, gap: 4 });
  await writeFileAtomic(join(root, 'contact-sheet.png'), encodePng(sheet, { deflateLevel: 9 }));
  console.log(`sample written to ${root}`);
}

await main();
