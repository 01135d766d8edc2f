/**
 * Render-speed benchmark: node test-data/dist/bench-render.js [count] [width]
 * Renders full-size films in memory (no PNG encoding) and prints films per second per region.
 */
import { sampleSubject, type Region } from './phantom.js';
import { renderFilm } from './render.js';

const count = Number(process.argv[2] ?? 20);
const width = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const results: Record<string, number> = {};
for (const region of ['cervical', 'lumbar'] as Region[]) {
  renderFilm(sampleSubject(region, 1, 0), 1, width); // warm-up (JIT)
  const t0 = performance.now();
  for (let i = 0; i < count; i++) renderFilm(sampleSubject(region, 1, i), 1 + i, width);
  const s = (performance.now() - t0) / 1000;
  results[region] = count / s;
  console.log(
    `${region.padEnd(9)} ${String(count).padStart(4)} films  ${(count / s).toFixed(2).padStart(6)} films/s  ${((s / count) * 1000).toFixed(0)} ms/film`,
  );
}
console.log(JSON.stringify({ width: width ?? 'native', count, filmsPerSecond: results }));
