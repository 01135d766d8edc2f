/**
 * What the page says when something is wrong, in the user's terms: which file, what is wrong
 * with it, what to do. Kept apart from the DOM code so every message is written in one place.
 */
import { isImagingError } from '@spine/imaging';
import { MODEL_FILE_ADVICE, ModelFileError } from './model-file.js';

export const NO_WEBGPU =
  "This browser does not offer WebGPU, which the classifier needs: the network runs on this computer's graphics processor, so no film is sent anywhere.\n" +
  'Use a current Chrome or Edge (version 113 or later) on Windows, macOS or ChromeOS, or Chrome on Linux or Android with WebGPU enabled (chrome://flags/#enable-unsafe-webgpu), ' +
  'or Safari 26 / Firefox 141 or later. The page must be opened from https:// or http://localhost.';

export function noAdapter(reason: string): string {
  return `This browser has WebGPU but gave no graphics adapter (${reason}). The GPU may be blocked for this browser or disabled in its settings; try another browser, or update the graphics driver.`;
}

export function notSecureContext(origin: string): string {
  return `WebGPU is only offered to pages served over https:// or from localhost; this page was opened from ${origin}. Serve the folder with any static web server (for example 'npx http-server DIR' or 'python3 -m http.server -d DIR') and open it through http://localhost.`;
}

export function modelProblem(e: unknown): string {
  if (e instanceof ModelFileError) return `${e.message}.\n${MODEL_FILE_ADVICE}`;
  return `The model could not be loaded: ${firstLine(e)}.\n${MODEL_FILE_ADVICE}`;
}

/** One line for a film that could not be classified (the table's Problem column). */
export function filmProblem(e: unknown): string {
  if (isImagingError(e)) return `not an image the classifier can read: ${e.reason}`;
  return `could not be classified: ${firstLine(e)}`;
}

export function filmAlert(failed: { name: string; error: string }[], total: number): string {
  if (failed.length === 1 && total === 1)
    return `${failed[0]!.name} is ${failed[0]!.error}. Drop PNG, JPEG, TIFF or DICOM films.`;
  const first = failed.slice(0, 3).map((f) => `${f.name}: ${f.error}`);
  return `${failed.length} of ${total} files could not be classified (see the Problem column):\n${first.join('\n')}${failed.length > 3 ? '\n…' : ''}`;
}

export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}
