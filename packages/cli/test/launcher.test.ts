// The launcher (bin/spine-cli.js -> dist/launcher.js) runs the CLI behind a filter that drops
// Dawn's two native notices from stderr and passes everything else through unchanged and at once.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dawnNoticeFilter } from '../src/launcher.js';

const NOTICE_U =
  'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.';
const NOTICE_S =
  'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.';

function filtered(chunks: string[]): { out: string; writes: string[] } {
  const writes: string[] = [];
  const f = dawnNoticeFilter((t) => writes.push(t));
  for (const c of chunks) f.push(c);
  f.end();
  return { out: writes.join(''), writes };
}

describe("the launcher's stderr filter", () => {
  it("drops Dawn's notices however the text is split into chunks, and keeps every other line", () => {
    const text = `${NOTICE_U}\n${NOTICE_S}\nerror: /x/a.png: PNG is truncated\nWarning: maxDynamic is not this\n`;
    const expected = 'error: /x/a.png: PNG is truncated\nWarning: maxDynamic is not this\n';
    expect(filtered([text]).out).toBe(expected);
    for (let cut = 1; cut < text.length; cut += 7)
      expect(filtered([text.slice(0, cut), text.slice(cut)]).out).toBe(expected);
    expect(filtered([...text]).out).toBe(expected); // one character at a time
  });

  it('passes text on at once unless it may still become a notice (progress bars are not held back)', () => {
    const f = (chunk: string) => filtered([chunk]).writes;
    expect(f('\r[####      ] 40% 12 films/s\x1b[K')).toEqual(['\r[####      ] 40% 12 films/s\x1b[K']);
    const writes: string[] = [];
    const filter = dawnNoticeFilter((t) => writes.push(t));
    filter.push('Warning: maxDyn');
    expect(writes).toEqual([]); // could still be a notice
    filter.push('amicUniform... something else');
    expect(writes).toEqual(['Warning: maxDynamicUniform... something else']);
  });

  it('a notice continuing a line already written is not a notice; an unfinished line is flushed at the end', () => {
    expect(filtered(['loss 0.3 ', `${NOTICE_U}\n`]).out).toBe(`loss 0.3 ${NOTICE_U}\n`);
    expect(filtered(['Warning: maxDynamicUniform']).out).toBe('Warning: maxDynamicUniform');
    expect(filtered([`${NOTICE_U}\r\n`]).out).toBe('');
  });
});

const launcher = fileURLToPath(new URL('../bin/spine-cli.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/launcher.js', import.meta.url)));

describe.skipIf(!built)('bin/spine-cli.js', () => {
  it('a command that starts the GPU device prints only our own messages on stderr', () => {
    const r = spawnSync(process.execPath, [launcher, 'doctor'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('spine-cli is ready');
    expect(r.stderr).not.toContain('artificially reduced');
  });

  it("gives the CLI's exit code and its error on stderr", () => {
    const r = spawnSync(process.execPath, [launcher, 'train', '--no-such-flag'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no-such-flag/);
  });

  it('passes SIGTERM on to the CLI and ends by that signal', async () => {
    const out = fileURLToPath(new URL('../.cache/launcher-sigterm', import.meta.url));
    const child = spawn(
      process.execPath,
      [launcher, 'synth', '--region', 'cervical', '--count', '100000', '--out', out],
      { stdio: 'pipe' },
    );
    await new Promise((r) => child.stderr.once('data', r)); // the CLI is running
    child.kill('SIGTERM');
    const signal = await new Promise((r) => child.on('exit', (_code, s) => r(s)));
    expect(signal).toBe('SIGTERM');
    rmSync(out, { recursive: true, force: true });
  });
});
