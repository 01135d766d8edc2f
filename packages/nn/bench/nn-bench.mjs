// npm run bench (in @spine/nn): the convolution/pooling and normalisation suites, one after
// the other (they would compete for the same cores or GPU), passing --quick through.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
let failed = false;
for (const script of ['conv-bench.mjs', 'norm-bench.mjs']) {
  if (!existsSync(join(here, script))) continue;
  const r = spawnSync(process.execPath, [join(here, script), ...process.argv.slice(2)], { stdio: 'inherit' });
  failed ||= r.status !== 0;
}
process.exit(failed ? 1 : 0);
