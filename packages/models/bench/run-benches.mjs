// npm run bench (in @spine/models): every bench/*-bench.mjs in turn (the sequential CNN's, the
// DenseNet's, ...), never in parallel (they would compete for the same cores or GPU), passing
// --quick through. Each writes its own bench/results file.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
let failed = false;
for (const script of readdirSync(here)
  .filter((f) => f.endsWith('-bench.mjs'))
  .sort()) {
  const r = spawnSync(process.execPath, [join(here, script), ...process.argv.slice(2)], { stdio: 'inherit' });
  failed ||= r.status !== 0;
}
process.exit(failed ? 1 : 0);
