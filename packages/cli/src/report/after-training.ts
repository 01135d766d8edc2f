/**
 * train's last step: the run's report. A report that cannot be rendered must never cost the
 * trained run (checkpoints and eval/ are already on disk), so any failure becomes a warning that
 * says how to retry.
 */
import type { Module } from '@spine/nn';

export async function reportAfterTraining(
  runDir: string,
  model: Module,
  log: (line: string) => void,
  /** train's --max-pixels: the report decodes the films training accepted. */
  maxPixels?: number,
): Promise<void> {
  try {
    // Imported here so that a report stack that cannot load (resvg's native binary) is a warning too.
    const { writeReport } = await import('./write-report.js');
    model.eval();
    log('Writing the report (charts; Grad-CAM over the test films)...');
    const result = await writeReport(runDir, { model, ...(maxPixels !== undefined ? { maxPixels } : {}) });
    log(`Report: ${result.html}`);
  } catch (e) {
    const reason = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    log(
      `warning: the report could not be written (${reason}); the run itself is saved. Retry with: spine-cli report ${runDir}`,
    );
  }
}
