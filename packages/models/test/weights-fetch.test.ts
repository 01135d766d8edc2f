// `weights fetch` against a local HTTP server on 127.0.0.1: success, hash mismatch, a connection
// dropped mid-body then resumed with Range, server down, a file placed by hand, the cache folder.
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  fetchPretrainedWeights,
  readWeightsFile,
  resolveCacheDir,
  weightsPaths,
  type PretrainedWeights,
} from '../src/weights/index.js';

const body = readFileSync(new URL('../fixtures/weights/tiny-legacy-names.legacy.pth', import.meta.url));
const sha256 = createHash('sha256').update(body).digest('hex');
const expected = JSON.parse(readFileSync(new URL('../fixtures/weights/expected.json', import.meta.url), 'utf8')) as {
  parameterCount: number;
};
const tmp = mkdtempSync(join(tmpdir(), 'spine-weights-fetch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** Serves `body` at /tiny-<hash>.pth through `handler`; returns the URL and the requests seen. */
async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, n: number) => void,
): Promise<{ url: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  server = createServer((req, res) => {
    requests.push(req);
    handler(req, res, requests.length);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/models/tiny-${sha256.slice(0, 8)}.pth`, requests };
}

/** Honours Range like download.pytorch.org (206 with Content-Range). */
function rangeHandler(req: IncomingMessage, res: ServerResponse): void {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const from = m ? Number(m[1]) : 0;
  if (from >= body.length) {
    res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
    return;
  }
  res.writeHead(m ? 206 : 200, {
    'Content-Length': body.length - from,
    ...(m ? { 'Content-Range': `bytes ${from}-${body.length - 1}/${body.length}` } : {}),
  });
  res.end(body.subarray(from));
}

const entryFor = (url: string, prefix = sha256.slice(0, 8)): PretrainedWeights => ({
  name: 'tiny',
  arch: 'densenet121',
  url,
  sha256Prefix: prefix,
  parameterCount: expected.parameterCount,
  dataset: 'ImageNet-1k',
});
let n = 0;
const freshCache = () => join(tmp, `cache${n++}`);

describe('fetchPretrainedWeights', () => {
  it('downloads with progress, checks the SHA-256, stores converted safetensors atomically; a second call uses the cache', async () => {
    const { url, requests } = await serve(rangeHandler);
    const cacheDir = freshCache();
    const progress: number[] = [];
    const r = await fetchPretrainedWeights(entryFor(url), { cacheDir, onProgress: (p) => progress.push(p.received) });
    expect(r.source).toBe('downloaded');
    expect(r.sha256).toBe(sha256);
    expect(r.path).toBe(join(cacheDir, 'weights', `tiny-${sha256.slice(0, 8)}.safetensors`));
    expect(progress.at(-1)).toBe(body.length);
    expect(readdirSync(join(cacheDir, 'weights'))).toEqual([`tiny-${sha256.slice(0, 8)}.safetensors`]);
    const f = await readWeightsFile(r.path);
    expect(f.metadata).toMatchObject({ source: url, source_sha256: sha256, name: 'tiny' });
    expect(f.tensors.has('features.denseblock1.denselayer1.norm1.weight')).toBe(true);
    const again = await fetchPretrainedWeights(entryFor(url), { cacheDir });
    expect(again.source).toBe('cached');
    expect(requests).toHaveLength(1);
  });

  it('a hash mismatch deletes the download and stores nothing', async () => {
    const { url } = await serve(rangeHandler);
    const cacheDir = freshCache();
    const e = await fetchPretrainedWeights(entryFor(url, 'deadbeef'), { cacheDir }).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'WeightsError', code: 'hash-mismatch' });
    expect((e as Error).message).toContain(
      `has SHA-256 ${sha256}, but tiny must start with deadbeef; it was deleted and nothing was stored`,
    );
    expect(readdirSync(join(cacheDir, 'weights'))).toEqual([]);
  });

  it('a connection dropped mid-body keeps the .part; the rerun asks for the rest with Range and completes', async () => {
    const cut = 7000;
    const { url, requests } = await serve((req, res, i) => {
      if (i === 1) {
        // Promise the whole file, send part of it, then drop the connection.
        res.writeHead(200, { 'Content-Length': body.length });
        res.write(body.subarray(0, cut), () => setTimeout(() => res.destroy(), 50));
        return;
      }
      rangeHandler(req, res);
    });
    const cacheDir = freshCache();
    const paths = weightsPaths(cacheDir, entryFor(url));
    const first = await fetchPretrainedWeights(entryFor(url), { cacheDir, attempts: 1 }).catch((x: unknown) => x);
    expect(first).toMatchObject({ name: 'WeightsError', code: 'interrupted' });
    expect((first as { hint: string }).hint).toContain(`kept in ${paths.part}; run the same command again to resume`);
    expect(statSync(paths.part).size).toBe(cut);
    expect(existsSync(paths.safetensors)).toBe(false);

    const statuses: string[] = [];
    const second = await fetchPretrainedWeights(entryFor(url), { cacheDir, onStatus: (s) => statuses.push(s) });
    expect(requests[1]!.headers.range).toBe(`bytes=${cut}-`);
    expect(statuses[0]).toContain('resuming the partial download');
    expect(second.sha256).toBe(sha256);
    expect(existsSync(paths.part)).toBe(false);
    expect((await readWeightsFile(second.path)).tensors.size).toBeGreaterThan(0);
  });

  it('retries a dropped connection within one call (attempts), resuming each time', async () => {
    const { url, requests } = await serve((req, res, i) => {
      if (i <= 2) {
        const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
        res.writeHead(from ? 206 : 200, {
          'Content-Length': body.length - from,
          ...(from ? { 'Content-Range': `bytes ${from}-${body.length - 1}/${body.length}` } : {}),
        });
        res.write(body.subarray(from, from + 4000), () => setTimeout(() => res.destroy(), 50));
        return;
      }
      rangeHandler(req, res);
    });
    const r = await fetchPretrainedWeights(entryFor(url), { cacheDir: freshCache(), attempts: 3, retryDelayMs: 10 });
    expect(r.sha256).toBe(sha256);
    expect(requests.map((q) => q.headers.range)).toEqual([undefined, 'bytes=4000-', 'bytes=8000-']);
  });

  it('server down: an offline error that names the URL; nothing is created but the folder', async () => {
    const { url } = await serve(rangeHandler);
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    const cacheDir = freshCache();
    const e = await fetchPretrainedWeights(entryFor(url), { cacheDir }).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'WeightsError', code: 'offline' });
    expect((e as Error).message).toMatch(new RegExp(`cannot reach ${url.replace(/[.]/g, '\\.')}: .*ECONNREFUSED`));
    expect(readdirSync(join(cacheDir, 'weights'))).toEqual([]);
  });

  it('an HTTP error status is reported with the status', async () => {
    const { url } = await serve((_req, res) => res.writeHead(404, 'Not Found').end());
    await expect(fetchPretrainedWeights(entryFor(url), { cacheDir: freshCache() })).rejects.toThrow(
      /answered HTTP 404 Not Found/,
    );
  });

  it('a .pth placed in the cache folder by hand is checked and converted without the network', async () => {
    const cacheDir = freshCache();
    const entry = entryFor('http://127.0.0.1:9/unreachable/tiny-x.pth');
    const paths = weightsPaths(cacheDir, entry);
    mkdirSync(paths.folder, { recursive: true });
    writeFileSync(paths.pth, body);
    const r = await fetchPretrainedWeights(entry, { cacheDir });
    expect(r.source).toBe('local');
    expect(existsSync(r.path)).toBe(true);
    const wrong = freshCache();
    const wrongPaths = weightsPaths(wrong, { ...entry, sha256Prefix: '00000000' });
    mkdirSync(wrongPaths.folder, { recursive: true });
    writeFileSync(wrongPaths.pth, body);
    await expect(fetchPretrainedWeights({ ...entry, sha256Prefix: '00000000' }, { cacheDir: wrong })).rejects.toThrow(
      /must start with 00000000/,
    );
  });
});

describe('resolveCacheDir', () => {
  it('flag, then SPINE_CLI_CACHE_DIR, then $XDG_CACHE_HOME/spine-cli (absolute only), then ~/.cache/spine-cli', () => {
    const env = { HOME: '/home/u', XDG_CACHE_HOME: '/xdg', SPINE_CLI_CACHE_DIR: '/own' };
    expect(resolveCacheDir({ dir: '/flag', env })).toBe('/flag');
    expect(resolveCacheDir({ env })).toBe('/own');
    expect(resolveCacheDir({ env: { HOME: '/home/u', XDG_CACHE_HOME: '/xdg' } })).toBe('/xdg/spine-cli');
    expect(resolveCacheDir({ env: { HOME: '/home/u', XDG_CACHE_HOME: 'relative' } })).toBe('/home/u/.cache/spine-cli');
    expect(resolveCacheDir({ env: { HOME: '/home/u' } })).toBe('/home/u/.cache/spine-cli');
  });
});
