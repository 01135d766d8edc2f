// The loader's worker (worker.ts beside this module): the compiled sibling, or a bundle of the
// source when the loader runs from TypeScript (@spine/imaging's workerScript says how).
import { workerScript as workerBeside } from '@spine/imaging/node';

export function workerScript(): Promise<string> {
  return workerBeside(import.meta.url, 'worker');
}
