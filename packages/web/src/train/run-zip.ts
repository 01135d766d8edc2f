/** A run's files as one zip holding the run folder, as spine-cli evaluate, predict and report read it. */
import { zipSync } from 'fflate';

export function runZip(run: string, files: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const entries: Record<string, Uint8Array> = {};
  for (const [path, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) entries[`${run}/${path}`] = bytes;
  // Checkpoints are float32 noise to a compressor: stored, not deflated.
  return zipSync(entries, { level: 0 });
}
