/**
 * study.json: the settings a study was started with and what each step has done. Written
 * atomically (temp file + rename) after every change, so a study killed at any moment rereads a
 * whole file. A lock file names the process running the study (and its current child), so a
 * second `spine-cli study` on the same folder is refused while the first one still runs.
 */
import { existsSync, promises as fs, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@spine/imaging/node';
import { CliError } from '../ui/errors.js';
import type { StudySettings } from './settings.js';

export const STATE_FILE = 'study.json';
export const LOCK_FILE = '.study.lock';

export type StepStatus = 'started' | 'done' | 'skipped';

export interface StepState {
  status: StepStatus;
  /** The spine-cli command line of the step (argv after 'spine-cli'), or a description of in-process work. */
  command: string[];
  /** Why it was skipped, or what it ran with (e.g. the DenseNet's starting weights). */
  note?: string;
  startedAt: string;
  finishedAt?: string;
  /** Wall time of the run that finished it (a resumed step: of the last part only). */
  seconds?: number;
}

export interface StudyState {
  format: 'spine-study';
  version: 1;
  createdAt: string;
  settings: StudySettings;
  steps: Record<string, StepState>;
}

export async function readStudyState(dir: string): Promise<StudyState | undefined> {
  const path = join(dir, STATE_FILE);
  if (!existsSync(path)) return undefined;
  let state: StudyState;
  try {
    state = JSON.parse(await fs.readFile(path, 'utf8')) as StudyState;
  } catch (e) {
    throw new CliError(
      `${path} is not valid JSON (${(e as Error).message})`,
      'The study state is damaged; use another --out (the run folders inside can still be evaluated one by one).',
      { cause: e },
    );
  }
  if (
    state.format !== 'spine-study' ||
    state.version !== 1 ||
    typeof state.settings !== 'object' ||
    typeof state.steps !== 'object' ||
    state.steps === null
  ) {
    throw new CliError(
      `${path} is not a spine-cli study state (format spine-study, version 1)`,
      'Use another --out for a new study.',
    );
  }
  return state;
}

export async function writeStudyState(dir: string, state: StudyState): Promise<void> {
  await writeFileAtomic(join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
}

interface LockContent {
  pid: number;
  child?: number;
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Holds the study folder for this process; released by `release` (and on exit). */
export class StudyLock {
  private constructor(private readonly path: string) {}

  static async acquire(dir: string): Promise<StudyLock> {
    const path = join(dir, LOCK_FILE);
    if (existsSync(path)) {
      let held: LockContent | undefined;
      try {
        held = JSON.parse(readFileSync(path, 'utf8')) as LockContent;
      } catch {
        held = undefined;
      }
      const running = [held?.pid, held?.child].filter((p) => p !== process.pid && alive(p));
      if (running.length > 0) {
        throw new CliError(
          `${dir} is in use by another spine-cli study (process ${running.join(', ')})`,
          'Wait for it to finish or stop it; then run the same command again to continue.',
        );
      }
    }
    const lock = new StudyLock(path);
    await lock.write({ pid: process.pid });
    process.once('exit', () => lock.releaseSync());
    return lock;
  }

  /** Records the child now running a step, so a rerun waits for it even if this process is killed. */
  async child(pid: number | undefined): Promise<void> {
    await this.write({ pid: process.pid, ...(pid ? { child: pid } : {}) });
  }

  releaseSync(): void {
    rmSync(this.path, { force: true });
  }

  private async write(content: LockContent): Promise<void> {
    await writeFileAtomic(this.path, `${JSON.stringify(content)}\n`);
  }
}
