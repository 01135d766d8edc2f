/**
 * Which films of an archive a worker predicts with --shard K/N: film f belongs to shard
 * (first 32 bits of SHA-256 of its path relative to the archive, '/'-separated) mod N. Every
 * worker computes the same partition from the path alone, with no coordination, and a film's
 * shard does not depend on which other films exist, so adding films never moves old ones.
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../ui/errors.js';

export interface Shard {
  /** 0-based index of this worker. */
  index: number;
  count: number;
  /** Where K and N came from, for messages. */
  source: string;
}

export function shardOfFile(relativePath: string, count: number): number {
  const key = relativePath.split('\\').join('/');
  return createHash('sha256').update(key).digest().readUInt32BE(0) % count;
}

/** --shard K/N (K from 0 to N-1) or auto (from the scheduler's environment). */
export function parseShardFlag(text: string, command: string, env: NodeJS.ProcessEnv = process.env): Shard {
  if (text === 'auto') return shardFromEnvironment(command, env);
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`--shard must be K/N (e.g. 0/8, K from 0 to N-1) or auto, got '${text}'`, command);
  return checked(Number(m[1]), Number(m[2]), `--shard ${text}`, command);
}

/**
 * K and N from a Slurm job array (SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN, of
 * SLURM_ARRAY_TASK_COUNT tasks; a stepped array such as 0-15:2 is refused, its ids are not
 * 0..N-1 after the offset) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, of
 * SPINE_SHARD_COUNT: set it to the Job's completions, Kubernetes does not pass that count on).
 */
export function shardFromEnvironment(command: string, env: NodeJS.ProcessEnv): Shard {
  const num = (name: string): number => {
    const v = env[name]!.trim();
    if (!/^\d+$/.test(v)) throw new UsageError(`--shard auto: ${name} is '${env[name]}', not a whole number`, command);
    return Number(v);
  };
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const missing = ['SLURM_ARRAY_TASK_COUNT', 'SLURM_ARRAY_TASK_MIN'].filter((n) => env[n] === undefined);
    if (missing.length > 0)
      throw new UsageError(
        `--shard auto: SLURM_ARRAY_TASK_ID is set but ${missing.join(' and ')} is not (Slurm sets them for job arrays, sbatch --array)`,
        command,
      );
    if (env.SLURM_ARRAY_TASK_STEP !== undefined && num('SLURM_ARRAY_TASK_STEP') !== 1) {
      throw new UsageError(
        `--shard auto: the Slurm array has step ${env.SLURM_ARRAY_TASK_STEP}; use a contiguous array (e.g. --array=0-15) so the tasks are shards 0..N-1`,
        command,
      );
    }
    const source = `Slurm array task ${env.SLURM_ARRAY_TASK_ID} (min ${env.SLURM_ARRAY_TASK_MIN}, count ${env.SLURM_ARRAY_TASK_COUNT})`;
    return checked(
      num('SLURM_ARRAY_TASK_ID') - num('SLURM_ARRAY_TASK_MIN'),
      num('SLURM_ARRAY_TASK_COUNT'),
      source,
      command,
    );
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    if (env.SPINE_SHARD_COUNT === undefined) {
      throw new UsageError(
        "--shard auto: JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but SPINE_SHARD_COUNT is not; set it in the pod template to the Job's completions",
        command,
      );
    }
    const source = `Kubernetes Indexed Job completion ${env.JOB_COMPLETION_INDEX} of SPINE_SHARD_COUNT=${env.SPINE_SHARD_COUNT}`;
    return checked(num('JOB_COMPLETION_INDEX'), num('SPINE_SHARD_COUNT'), source, command);
  }
  throw new UsageError(
    '--shard auto finds no scheduler: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; give --shard K/N instead',
    command,
  );
}

function checked(index: number, count: number, source: string, command: string): Shard {
  if (!(count >= 1)) throw new UsageError(`${source}: the shard count must be at least 1`, command);
  if (!(index >= 0 && index < count))
    throw new UsageError(`${source}: shard ${index} is outside 0..${count - 1}`, command);
  return { index, count, source };
}
