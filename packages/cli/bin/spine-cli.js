#!/usr/bin/env node
// The `spine-cli` command. A committed launcher rather than dist/bin.js itself because npm links a
// bin only when its file exists at install time, and in this workspace `npm ci` runs before the build.
// It runs dist/bin.js as a child behind a stderr filter for Dawn's native notices (dist/launcher.js).
import('../dist/launcher.js')
  .then(({ launch }) => launch(new URL('../dist/bin.js', import.meta.url).pathname))
  .catch((e) => {
    if (e && e.code === 'ERR_MODULE_NOT_FOUND') {
      console.error(`error: spine-cli is not built (${String(e.message).split('\n')[0]})`);
      console.error('Build the workspace first: npm run build (at the repository root).');
      process.exitCode = 1;
    } else {
      throw e;
    }
  });
