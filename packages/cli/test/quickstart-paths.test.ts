// Runs are relocatable: config.json stores the data folder relative to the run directory when
// both are in one repository, absolute otherwise; a run moved with its repository still
// evaluates and resumes, and one copied out of it falls back to the absolute path it was made with.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashedConfig, resolveStoredDataPaths, storedDataPaths } from '../src/run/config.js';
import { runCli } from './run-cli.js';
import { copySampleFilms } from './sample-films.js';

const dir = mkdtempSync(join(tmpdir(), 'spine-cli-paths-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A repository (a folder with .git) holding data/ with `n` films of the bundled sample. */
function fakeRepo(name: string, n: number): string {
  const repo = join(dir, name);
  mkdirSync(join(repo, '.git'), { recursive: true });
  mkdirSync(join(repo, 'data'));
  copySampleFilms(join(repo, 'data'), n);
  return repo;
}

describe('data paths in config.json', () => {
  it('relative to the run directory inside its repository, absolute outside; resolved back on load', () => {
    const repo = join(dir, 'unit');
    mkdirSync(join(repo, '.git'), { recursive: true });
    const run = join(repo, 'runs', 'r1');
    expect(
      storedDataPaths({ root: join(repo, 'data', 'films'), labels: join(repo, 'data', 'films.csv') }, run),
    ).toEqual({ root: '../../data/films', labels: '../../data/films.csv' });
    expect(storedDataPaths({ root: '/srv/nhanes/cervical', labels: null }, run)).toEqual({
      root: '/srv/nhanes/cervical',
      labels: null,
    });
    // A run outside any repository keeps absolute paths even for data beside it.
    expect(
      storedDataPaths({ root: join(dir, 'loose', 'data'), labels: null }, join(dir, 'loose', 'runs', 'r1')),
    ).toEqual({ root: join(dir, 'loose', 'data'), labels: null });
    expect(resolveStoredDataPaths({ root: '../../data/films', labels: null }, run)).toEqual({
      root: join(repo, 'data', 'films'),
      labels: null,
    });
    // The hash sees the stored form, so the same run in a moved repository hashes the same.
    const config = { data: { root: join(repo, 'data'), labels: null }, epochs: 3 } as unknown as Parameters<
      typeof hashedConfig
    >[0];
    const moved = { data: { root: join(dir, 'elsewhere', 'data'), labels: null }, epochs: 5 } as unknown as Parameters<
      typeof hashedConfig
    >[0];
    expect(hashedConfig(moved, join(dir, 'elsewhere', 'runs', 'r1'))).not.toEqual(hashedConfig(config, run)); // no repository there
    mkdirSync(join(dir, 'elsewhere', '.git'), { recursive: true });
    expect(hashedConfig(moved, join(dir, 'elsewhere', 'runs', 'r1'))).toEqual(hashedConfig(config, run));
  });

  it('a run moved with its repository evaluates and resumes; copied out of it, it finds the data by the absolute path', async () => {
    const repo = fakeRepo('project', 24);
    const cache = join(dir, 'cache');
    const tiny = ['--input-size', '32', '--workers', '0', '--cache', cache];
    const made = await runCli([
      'train',
      '--data',
      join(repo, 'data'),
      '--epochs',
      '1',
      '--out',
      join(repo, 'runs', 'r1'),
      ...tiny,
    ]);
    expect(made.stderr).not.toMatch(/\n\s+at /);
    expect(made.code).toBe(0);
    const record = JSON.parse(readFileSync(join(repo, 'runs', 'r1', 'config.json'), 'utf8'));
    expect(record.version).toBe(2);
    expect(record.config.data).toEqual({ root: '../../data', labels: null });
    expect(record.dataAtCreation).toEqual({ root: join(repo, 'data'), labels: null });

    const moved = join(dir, 'project-moved');
    renameSync(repo, moved);
    const run = join(moved, 'runs', 'r1');
    const ev = await runCli(['evaluate', '--run', run, '--json']);
    expect(ev.stderr).not.toMatch(/does not exist/);
    expect(ev.code).toBe(0);
    expect(JSON.parse(ev.stdout).n).toBeGreaterThan(0);
    const resumed = await runCli([
      'train',
      '--out',
      run,
      '--resume',
      '--epochs',
      '2',
      '--workers',
      '0',
      '--cache',
      cache,
    ]);
    expect(resumed.stderr).toContain('Resuming');
    expect(resumed.code).toBe(0);

    // Copied out of the repository: ../../data is gone from there, the recorded absolute path is
    // gone too (the repository moved), so this fails naming the folder; with the data back at
    // the recorded path it works.
    const copy = join(dir, 'backup', 'runs', 'copied-run'); // ../../data is then ${dir}/backup/data, not there
    cpSync(run, copy, { recursive: true }); // creates backup/runs/
    const lost = await runCli(['evaluate', '--run', copy]);
    expect(lost.code).toBe(1);
    expect(lost.stderr).toContain(`data folder ${resolve(copy, '../../data')} does not exist`);
    renameSync(moved, repo);
    const found = await runCli(['evaluate', '--run', copy, '--json']);
    expect(found.code).toBe(0);
  });
});
