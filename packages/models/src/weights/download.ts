/**
 * A download that survives interruption: bytes go to a `.part` file as they arrive, and a later
 * call asks the server only for the rest (HTTP Range: bytes=N-). A server that ignores the range
 * (200 instead of 206) gets the file from the start again. Whether the bytes are the right ones is
 * not decided here: the caller checks the SHA-256 of the finished file.
 */
import { open, stat, truncate } from 'node:fs/promises';
import { WeightsError } from './errors.js';

export interface DownloadProgress {
  /** Bytes in the .part file so far (resumed bytes included). */
  received: number;
  /** The whole file's size when the server said it. */
  total: number | null;
  /** Bytes that were already there when this call started. */
  resumedFrom: number;
}

export interface DownloadOptions {
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
}

export interface DownloadResult {
  bytes: number;
  resumedFrom: number;
}

const MiB = 2 ** 20;
const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

/** Download `url` into `partPath`, continuing what is already there. */
export async function downloadResumable(
  url: string,
  partPath: string,
  options: DownloadOptions = {},
): Promise<DownloadResult> {
  let start = await stat(partPath).then(
    (s) => s.size,
    () => 0,
  );
  const headers: Record<string, string> = start > 0 ? { Range: `bytes=${start}-` } : {};
  let response: Response;
  try {
    response = await fetch(url, { headers, redirect: 'follow', ...(options.signal ? { signal: options.signal } : {}) });
  } catch (e) {
    throw new WeightsError('offline', `cannot reach ${url}: ${networkReason(e)}`, undefined, { cause: e });
  }
  // The .part already holds the whole file (a previous run died between download and check).
  if (response.status === 416 && start > 0) {
    await response.body?.cancel();
    return { bytes: start, resumedFrom: start };
  }
  if (response.status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
    if (!range || Number(range[1]) !== start) {
      await response.body?.cancel();
      await truncate(partPath, 0);
      throw new WeightsError(
        'http',
        `${url} answered a request for bytes ${start}- with the range '${response.headers.get('content-range') ?? '(none)'}'`,
        'The partial download was discarded; run the command again to download from the start.',
      );
    }
  } else if (response.status === 200) {
    start = 0; // the server ignored Range: the body is the whole file
  } else {
    await response.body?.cancel();
    throw new WeightsError('http', `${url} answered HTTP ${response.status} ${response.statusText}`.trim());
  }
  const total = totalSize(response, start);
  const resumedFrom = start;
  let received = start;
  const fh = await open(partPath, start > 0 ? 'a' : 'w');
  try {
    if (!response.body) throw new Error('the response has no body');
    options.onProgress?.({ received, total, resumedFrom });
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      await fh.write(chunk);
      received += chunk.byteLength;
      options.onProgress?.({ received, total, resumedFrom });
    }
    await fh.sync();
  } catch (e) {
    throw new WeightsError(
      'interrupted',
      `the download of ${url} was interrupted after ${mib(received)}${total ? ` of ${mib(total)}` : ''} (${networkReason(e)})`,
      `The ${mib(received)} received are kept in ${partPath}; run the same command again to resume from there.`,
      { cause: e },
    );
  } finally {
    await fh.close();
  }
  if (total !== null && received !== total) {
    throw new WeightsError(
      'interrupted',
      `the download of ${url} ended after ${mib(received)} of ${mib(total)}`,
      `The bytes received are kept in ${partPath}; run the same command again to resume from there.`,
    );
  }
  return { bytes: received, resumedFrom };
}

function totalSize(response: Response, start: number): number | null {
  if (response.status === 206) {
    const total = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1];
    if (total) return Number(total);
  }
  const length = response.headers.get('content-length');
  return length !== null && /^\d+$/.test(length) ? start + Number(length) : null;
}

/** undici wraps the socket error in `cause`; its code (ECONNREFUSED, ENOTFOUND, ...) is what tells the user most. */
function networkReason(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e; c instanceof Error && parts.length < 4; c = c.cause) {
    const code = (c as { code?: unknown }).code;
    parts.push(
      typeof code === 'string' ? `${code}${c.message && !c.message.includes(code) ? ` ${c.message}` : ''}` : c.message,
    );
  }
  return parts.filter(Boolean).join(': ') || String(e);
}
