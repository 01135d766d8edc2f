/**
 * Regenerates the committed sample (npm run sample -w @spine/test-data): deterministic, so a rerun
 * reproduces the committed films pixel for pixel (and byte for byte with the same PNG encoder).
 *   sample/cervical/       labelled cervical films (sizes in sample-spec.ts)
 *   sample/lumbar/         labelled lumbar films
 *   sample/cervical-roi/   136 ROI-marked cervical reference films (boxes in rois.json)
 *   sample/contact-sheet.png
 */
import { join } from 'node:path';
import { contactSheet, drawRect, encodePng, imageFromGrey8, toRgb } from '@spine/imaging';
import { writeFileAtomic } from '@spine/imaging/node';
import { generateDataset } from './dataset.js';
import { sampleSubject, type Region } from './phantom.js';
import { renderFilm } from './render.js';
import { SAMPLE } from './sample-spec.js';

async function main(): Promise<void> {
  const root = process.argv[2] ?? join(import.meta.dirname, '..', 'sample');
  for (const region of ['cervical', 'lumbar'] as Region[]) {
    const { count, width, seed } = SAMPLE[region];
    await generateDataset({ region, count, seed, outDir: join(root, region), width });
  }
  const ref = SAMPLE.roiReference;
  await generateDataset({
    region: 'cervical',
    count: ref.count,
    seed: ref.seed,
    outDir: join(root, 'cervical-roi'),
    width: ref.width,
  });
  // Contact sheet: 8 cervical and 8 lumbar films with their ROI boxes in red, rendered larger.
  const tiles = [];
  for (const region of ['cervical', 'lumbar'] as Region[]) {
    const seed = SAMPLE[region].seed;
    for (let i = 0; i < SAMPLE.contactSheet.perRegion; i++) {
      const film = renderFilm(sampleSubject(region, seed, i), seed + i, SAMPLE.contactSheet.width);
      const rgb = toRgb(imageFromGrey8(film.width, film.height, film.pixels));
      tiles.push(drawRect(rgb, film.roi, [1, 0.2, 0.2], 2));
    }
  }
  const sheet = contactSheet(tiles, { columns: 8, cellWidth: 128, cellHeight: 155, gap: 3 });
  await writeFileAtomic(join(root, 'contact-sheet.png'), encodePng(sheet, { deflateLevel: 9 }));
  console.log(`sample written to ${root}`);
}

await main();
