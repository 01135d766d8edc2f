/**
 * The retrieval index: reference films (file, size, marked spinal ROI, PHOG descriptor) and exact
 * nearest-neighbour search by Euclidean distance, as in the paper (136 ROI-marked cervical films).
 * With a few hundred references of 680 values a brute-force scan is exact and takes microseconds,
 * so there is no approximate structure to get wrong.
 */
import { CbirError } from './errors.js';
import { workingPlane, type GreyPlane } from './grey.js';
import { PHOG_DEFAULTS, phogDescriptor, phogLength, type PixelBox } from './phog.js';

export const INDEX_FORMAT = 'spine-cbir-roi-index';
export const INDEX_VERSION = 1;

/** How descriptors are computed; queries must be described the same way, so the index carries it. */
export interface DescriptorSettings {
  bins: number;
  angle: 180 | 360;
  levels: number;
  /**
   * Width every film (reference and query) is resized to before Canny and PHOG, aspect kept; null
   * for each film's own size (the reference code's behaviour, its PHOG about 40x slower on a full film).
   */
  workingWidth: number | null;
}

export const DEFAULT_WORKING_WIDTH = 256;
export const DEFAULT_DESCRIPTOR_SETTINGS: DescriptorSettings = {
  ...PHOG_DEFAULTS,
  workingWidth: DEFAULT_WORKING_WIDTH,
};

export interface ReferenceFilm {
  /** Name of the film, relative to the reference folder. */
  file: string;
  width: number;
  height: number;
  /** The marked spinal ROI in the film's pixels. */
  roi: PixelBox;
  descriptor: Float64Array;
}

export interface Match {
  /** Position of the reference in the index. */
  index: number;
  reference: ReferenceFilm;
  distance: number;
}

/** The descriptor of a film's grey plane under the given settings (working size, then PHOG). */
export function describeFilm(grey: GreyPlane, settings: DescriptorSettings): Float64Array {
  return phogDescriptor(workingPlane(grey, settings.workingWidth), {
    bins: settings.bins,
    angle: settings.angle,
    levels: settings.levels,
  });
}

export class RoiIndex {
  /** Reference descriptors packed row after row, for one pass per query. */
  private readonly matrix: Float64Array;
  readonly dimension: number;

  constructor(
    readonly settings: DescriptorSettings,
    readonly references: readonly ReferenceFilm[],
    /** The reference folder the films were read from (recorded for figures; optional). */
    readonly root?: string,
  ) {
    if (references.length === 0) throw new CbirError('<memory>', 'an ROI index needs at least one reference film');
    this.dimension = phogLength(settings.bins, settings.levels);
    this.matrix = new Float64Array(references.length * this.dimension);
    references.forEach((r, i) => {
      if (r.descriptor.length !== this.dimension) {
        throw new CbirError(
          r.file,
          `descriptor has ${r.descriptor.length} values, the index settings give ${this.dimension}`,
        );
      }
      this.matrix.set(r.descriptor, i * this.dimension);
    });
  }

  /** Describes a film the way this index's references were described. */
  describe(grey: GreyPlane): Float64Array {
    return describeFilm(grey, this.settings);
  }

  /**
   * The k nearest references of each query by Euclidean distance, nearest first (ties: the earlier
   * reference). Exact: every distance is computed.
   */
  nearest(queries: readonly Float64Array[], k = 1): Match[][] {
    const n = this.references.length;
    const d = this.dimension;
    const kk = Math.max(1, Math.min(k, n));
    const dist = new Float64Array(n);
    const order = new Int32Array(n);
    return queries.map((q, qi) => {
      if (q.length !== d) throw new CbirError('<memory>', `query ${qi} has ${q.length} values, the index expects ${d}`);
      for (let r = 0; r < n; r++) {
        let s = 0;
        const base = r * d;
        for (let j = 0; j < d; j++) {
          const diff = q[j]! - this.matrix[base + j]!;
          s += diff * diff;
        }
        dist[r] = Math.sqrt(s);
        order[r] = r;
      }
      const top = Array.from(order)
        .sort((a, b) => dist[a]! - dist[b]! || a - b)
        .slice(0, kk);
      return top.map((index) => ({ index, reference: this.references[index]!, distance: dist[index]! }));
    });
  }

  /** The versioned JSON form (descriptors as plain numbers, full precision). */
  toJSON(): object {
    return {
      format: INDEX_FORMAT,
      version: INDEX_VERSION,
      settings: this.settings,
      ...(this.root !== undefined ? { root: this.root } : {}),
      references: this.references.map((r) => ({
        file: r.file,
        width: r.width,
        height: r.height,
        roi: r.roi,
        descriptor: Array.from(r.descriptor),
      })),
    };
  }

  /** Reads the JSON form, checking every field; `file` names the source in errors. */
  static fromJSON(value: unknown, file = '<memory>'): RoiIndex {
    const bad = (reason: string): never => {
      throw new CbirError(file, reason);
    };
    if (!isObject(value) || value.format !== INDEX_FORMAT)
      bad(`not an ROI index (expected "format": "${INDEX_FORMAT}"; make one with 'spine-cli roi index')`);
    const v = value as Record<string, unknown>;
    if (v.version !== INDEX_VERSION)
      bad(
        `ROI index version ${String(v.version)} is not supported (this build reads version ${INDEX_VERSION}); rebuild it with 'spine-cli roi index'`,
      );
    const s = v.settings;
    if (!isObject(s)) bad('has no "settings"');
    const settings = s as Record<string, unknown>;
    const int = (x: unknown, min: number): boolean => Number.isInteger(x) && (x as number) >= min;
    if (!int(settings.bins, 1) || !int(settings.levels, 0) || (settings.angle !== 180 && settings.angle !== 360))
      bad('"settings" needs integer bins >= 1, levels >= 0 and angle 180 or 360');
    if (settings.workingWidth !== null && !int(settings.workingWidth, 1))
      bad('"settings.workingWidth" must be a positive integer or null');
    const refs = v.references;
    if (!Array.isArray(refs) || refs.length === 0) bad('has no "references"');
    const references = (refs as unknown[]).map((r, i): ReferenceFilm => {
      const where = `reference ${i}`;
      if (!isObject(r)) return bad(`${where} is not an object`);
      const o = r as Record<string, unknown>;
      if (typeof o.file !== 'string' || o.file === '') bad(`${where} has no "file"`);
      if (!int(o.width, 1) || !int(o.height, 1))
        bad(`${where} (${String(o.file)}) needs positive integer width and height`);
      const roi = o.roi as Record<string, unknown> | undefined;
      if (
        !isObject(roi) ||
        ![roi.x, roi.y, roi.width, roi.height].every((x) => typeof x === 'number' && Number.isFinite(x)) ||
        !((roi.width as number) > 0 && (roi.height as number) > 0)
      ) {
        bad(`${where} (${String(o.file)}) needs an "roi" with finite x, y and positive width, height`);
      }
      if (!Array.isArray(o.descriptor) || !o.descriptor.every((x) => typeof x === 'number' && Number.isFinite(x)))
        bad(`${where} (${String(o.file)}) needs a "descriptor" of finite numbers`);
      const box = roi as unknown as PixelBox;
      return {
        file: o.file as string,
        width: o.width as number,
        height: o.height as number,
        roi: { x: box.x, y: box.y, width: box.width, height: box.height },
        descriptor: Float64Array.from(o.descriptor as number[]),
      };
    });
    if (v.root !== undefined && typeof v.root !== 'string') bad('"root" must be a string (the reference folder)');
    return new RoiIndex(
      {
        bins: settings.bins as number,
        angle: settings.angle as 180 | 360,
        levels: settings.levels as number,
        workingWidth: settings.workingWidth as number | null,
      },
      references,
      v.root as string | undefined,
    );
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
