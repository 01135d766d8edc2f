#!/usr/bin/env node
// The `spine-cli` command. A committed launcher rather than dist/bin.js itself because npm links a
// bin only when its file exists at install time, and in this workspace `npm ci` runs before the build.
import('../dist/bin.js').catch((e) => {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND') {
    console.error(`error: spine-cli is not built (${String(e.message).split('\n')[0]})`);
    console.error('Build the workspace first: npm run build (at the repository root).');
    process.exitCode = 1;
  } else {
    throw e;
  }
});
