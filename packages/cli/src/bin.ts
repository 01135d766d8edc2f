#!/usr/bin/env node
// The spine-cli executable. Everything lives in cli.ts; this file only hands over argv and the exit code
// (via exitCode, not process.exit, so piped output is flushed before the process ends).
import { main } from './cli.js';
import { adoptLauncher } from './launched.js';

adoptLauncher();
process.exitCode = await main(process.argv.slice(2));
