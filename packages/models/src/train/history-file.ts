import { join } from 'node:path';
import { writeFileAtomic } from '@spine/imaging/node';
import { METRICS_FILE, metricsJsonl, type EpochMetrics } from './history.js';

/** Rewrites RUN/metrics.jsonl atomically from the history (see history.ts). */
export async function writeMetricsHistory(runDir: string, history: readonly EpochMetrics[]): Promise<void> {
  await writeFileAtomic(join(runDir, METRICS_FILE), metricsJsonl(history));
}
