/**
 * The Node side of @spine/cbir (the package root stays free of fs/path): reading a reference
 * folder (images + rois.json), building, writing and reading an index file, and the per-film crop
 * job the CLI and the benchmark run (in worker threads, see crop-pool.ts).
 */
import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { decodeImage, encodePng, encodePngSamples, imageFromGrey8 } from '@spine/imaging';
import { writeFileAtomic } from '@spine/imaging/node';
import { greyPlaneFromImage, type GreyPlane } from './grey.js';
import { cropPlane, resizePlane } from './plane-ops.js';
import { CbirError } from './errors.js';
import type { PixelBox } from './phog.js';
import {
  DEFAULT_DESCRIPTOR_SETTINGS,
  DEFAULT_WORKING_WIDTH,
  RoiIndex,
  describeFilm,
  type DescriptorSettings,
  type ReferenceFilm,
} from './roi-index.js';
import { PAPER_CROP, paddingFraction, transferRoi, type CropSettings } from './roi-transfer.js';
import { roiPreview } from './preview.js';
import type { CropPool } from './crop-pool.js';

export const ROIS_FILE = 'rois.json';

/**
 * A film file as an 8-bit grey plane, decoded by @spine/imaging straight to grey, whose
 * ImagingError names the file. `maxPixels` defaults to @spine/imaging's DEFAULT_MAX_PIXELS.
 */
export async function readGreyPlane(path: string, maxPixels?: number): Promise<GreyPlane> {
  let bytes: Uint8Array;
  try {
    const stat = await fs.stat(path);
    if (stat.isDirectory()) throw new CbirError(path, 'is a folder, expected an image file');
    bytes = await fs.readFile(path);
  } catch (e) {
    if (e instanceof CbirError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new CbirError(
      path,
      code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : (e as Error).message,
      { cause: e },
    );
  }
  const options = maxPixels === undefined ? { grey: true } : { grey: true, maxPixels };
  return greyPlaneFromImage(decodeImage(bytes, path, options));
}

/** rois.json of a reference folder: film name -> ROI box {x, y, width, height} in that film's pixels. */
export async function readRoiBoxes(dir: string): Promise<Map<string, PixelBox>> {
  const path = join(dir, ROIS_FILE);
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CbirError(
      path,
      code === 'ENOENT'
        ? `not found: a reference folder holds its films and a ${ROIS_FILE} mapping each film name to its ROI box {x, y, width, height}`
        : (e as Error).message,
      { cause: e },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CbirError(path, `is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CbirError(path, 'must be an object mapping film names to ROI boxes');
  const boxes = new Map<string, PixelBox>();
  for (const [file, box] of Object.entries(value as Record<string, unknown>)) {
    const b = box as Record<string, unknown> | null;
    const ok =
      typeof b === 'object' &&
      b !== null &&
      [b.x, b.y, b.width, b.height].every((v) => typeof v === 'number' && Number.isFinite(v)) &&
      (b.width as number) > 0 &&
      (b.height as number) > 0;
    if (!ok)
      throw new CbirError(
        path,
        `entry "${file}" must be {x, y, width, height} with finite numbers and positive width and height`,
      );
    boxes.set(file, { x: b.x as number, y: b.y as number, width: b.width as number, height: b.height as number });
  }
  if (boxes.size === 0) throw new CbirError(path, 'lists no films');
  return boxes;
}

export interface BuildIndexOptions {
  /**
   * Descriptor settings; PHOG defaults (8 bins, 360 degrees, L 3). workingWidth defaults to
   * DEFAULT_WORKING_WIDTH (256), or to the first film's width when that is smaller: references are
   * never enlarged, and a set of small films is described at its own size.
   */
  settings?: Partial<DescriptorSettings>;
  /** Describe films on this pool's workers (default: inline, one at a time); the pool's maxPixels applies there. */
  pool?: CropPool;
  /** Largest film (width x height) to decode; default @spine/imaging's DEFAULT_MAX_PIXELS. */
  maxPixels?: number;
  /** Called after each film with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Describes every film listed in DIR/rois.json (in name order). A film that cannot be read, or an
 * ROI that leaves its film, stops the build with the film named: an index must not silently lack
 * references.
 */
export async function buildIndexFromFolder(dir: string, options: BuildIndexOptions = {}): Promise<RoiIndex> {
  const boxes = await readRoiBoxes(dir);
  const names = [...boxes.keys()].sort();
  const settings = { ...DEFAULT_DESCRIPTOR_SETTINGS, ...options.settings };
  if (options.settings?.workingWidth === undefined) {
    const first = await readGreyPlane(join(dir, names[0]!), options.maxPixels);
    settings.workingWidth = Math.min(DEFAULT_WORKING_WIDTH, first.width);
  }
  let done = 0;
  const describe = async (file: string): Promise<ReferenceFilm> => {
    const path = join(dir, file);
    let described: { width: number; height: number; descriptor: Float64Array };
    try {
      described = options.pool
        ? await options.pool.describe(path, settings)
        : await describeInline(path, settings, options.maxPixels);
    } catch (e) {
      if (e instanceof CbirError) throw new CbirError(path, e.reason, { cause: e });
      throw e;
    }
    const roi = boxes.get(file)!;
    if (roi.x < 0 || roi.y < 0 || roi.x + roi.width > described.width || roi.y + roi.height > described.height) {
      throw new CbirError(
        path,
        `ROI ${roi.width}x${roi.height} at (${roi.x}, ${roi.y}) in ${ROIS_FILE} leaves the ${described.width}x${described.height} film`,
      );
    }
    options.onProgress?.(++done, names.length);
    return { file, width: described.width, height: described.height, roi, descriptor: described.descriptor };
  };
  const references = options.pool ? await Promise.all(names.map(describe)) : [];
  if (!options.pool) for (const file of names) references.push(await describe(file));
  return new RoiIndex(settings, references, resolve(dir));
}

export async function describeInline(
  path: string,
  settings: DescriptorSettings,
  maxPixels?: number,
): Promise<{ width: number; height: number; descriptor: Float64Array }> {
  const grey = await readGreyPlane(path, maxPixels);
  return { width: grey.width, height: grey.height, descriptor: describeFilm(grey, settings) };
}

export async function writeIndex(path: string, index: RoiIndex): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(index.toJSON())}\n`);
}

export async function readIndex(path: string): Promise<RoiIndex> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CbirError(
      path,
      code === 'ENOENT' ? "not found (make an index with 'spine-cli roi index')" : (e as Error).message,
      { cause: e },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CbirError(path, `is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  return RoiIndex.fromJSON(value, path);
}

export interface CropJob {
  /** The film to crop. */
  source: string;
  /** Where the crop PNG goes. */
  out: string;
  /** Where a Figure-6 preview PNG goes, if wanted. */
  preview?: string;
  /** The reference folder (for the preview's right panel). */
  referenceDir?: string;
}

export interface CropJobOptions {
  crop?: CropSettings;
  /** Resize the crop to this many pixels square before writing (default: keep the cut size). */
  outputSize?: number;
  /** Largest film (width x height) to decode; default @spine/imaging's DEFAULT_MAX_PIXELS. */
  maxPixels?: number;
}

/** What the manifest records for one film. */
export interface CropRecord {
  source: string;
  out: string;
  width: number;
  height: number;
  match: string;
  distance: number;
  centre: { x: number; y: number };
  box: PixelBox;
  /** The match's ROI mapped into the film (for evaluation). */
  roi: PixelBox;
  /** The share of the crop outside the film, padded black (0 when the square lies on the film). */
  padding: number;
}

/** Reads a film, finds its nearest reference, cuts the square and writes it as an 8-bit grey PNG (atomically). */
export async function cropFilm(job: CropJob, index: RoiIndex, options: CropJobOptions = {}): Promise<CropRecord> {
  const grey = await readGreyPlane(job.source, options.maxPixels);
  const [match] = index.nearest([index.describe(grey)], 1)[0]!;
  const ref = match!.reference;
  const t = transferRoi(ref, grey, options.crop ?? PAPER_CROP);
  let piece = cropPlane(grey, t.box);
  if (options.outputSize !== undefined && options.outputSize !== piece.width)
    piece = resizePlane(piece, options.outputSize, options.outputSize);
  // Huffman-only: film grain defeats LZ77's string matching, so skipping it keeps the crop as small
  // and writes it several times faster (node:zlib; fflate in a browser has no such mode).
  await writeFileAtomic(job.out, encodePngSamples({ ...piece, channels: 1 }, { strategy: 'huffman-only' }));
  if (job.preview !== undefined && job.referenceDir !== undefined) {
    const refGrey = await readGreyPlane(join(job.referenceDir, ref.file), options.maxPixels);
    const figure = roiPreview(
      imageFromGrey8(grey.width, grey.height, grey.data),
      t,
      imageFromGrey8(refGrey.width, refGrey.height, refGrey.data),
      ref.roi,
    );
    await writeFileAtomic(job.preview, encodePng(figure));
  }
  return {
    source: job.source,
    out: job.out,
    width: grey.width,
    height: grey.height,
    match: ref.file,
    distance: match!.distance,
    centre: t.centre,
    box: t.box,
    roi: t.roi,
    padding: paddingFraction(t.box, grey),
  };
}

export { CropPool } from './crop-pool.js';
