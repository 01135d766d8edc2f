/** Versions of spine-cli and the packages it runs, for --version, doctor and run records. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SPINE_PACKAGES = [
  '@spine/tensor',
  '@spine/nn',
  '@spine/imaging',
  '@spine/models',
  '@spine/test-data',
] as const;

/** spine-cli's own version: package.json one level above this file (dist/ or src/). */
export function cliVersion(): string {
  return readVersion(fileURLToPath(new URL('../package.json', import.meta.url))) ?? 'unknown';
}

/** Version of each @spine package as installed (found from where its entry point resolves). */
export function packageVersions(): Record<string, string> {
  const out: Record<string, string> = { 'spine-cli': cliVersion() };
  for (const name of SPINE_PACKAGES) {
    let version: string | undefined;
    try {
      // Entry points are <package>/dist/index.js; package.json is not in their `exports`.
      let dir = dirname(fileURLToPath(import.meta.resolve(name)));
      for (let i = 0; i < 3 && version === undefined; i++, dir = dirname(dir))
        version = readVersion(join(dir, 'package.json'), name);
    } catch {
      version = undefined;
    }
    out[name] = version ?? 'not found';
  }
  return out;
}

function readVersion(path: string, name?: string): string | undefined {
  try {
    const json = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
    return name === undefined || json.name === name ? json.version : undefined;
  } catch {
    return undefined;
  }
}
