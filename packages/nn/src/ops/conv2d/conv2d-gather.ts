// Where a conv GEMM's gathered operand X lives, as WGSL expressions shared by the workgroup-tiled
// kernels (conv2d-gpu-kernel.ts, conv2d-subgroup-matrix-kernel.ts). The forward's rows are
// output pixels (n, oh, ow) and its reduction runs over (c, kh, kw); the weight gradient's rows
// are (c, kh, kw) and its reduction runs over pixels. Either way an element's address is a row's
// share plus a reduction index's share, and so are its row and column within the padded plane:
// each thread computes its rows' shares once, and each k step's reduction shares go into small
// workgroup tables. The kernels' lets name the sizes: OHW, OW, KHW, KW, C, plane (Hp·Wp), image
// (C·plane), Wp, and the strides and dilations sh, sw, dh, dw.

/** A row offset that no plane row reaches: a table's mark for a reduction index past the range. */
export const PAST = '-0x40000000';

export interface GemmGather {
  /** Row `m`'s share of the address. */
  rowBase(m: string): string;
  /** Row `m`'s share of the row and column within the padded plane. */
  rowHW(m: string): [string, string];
  /** Reduction index `r`'s share of the address. */
  redOff(r: string): string;
  /** Reduction index `r`'s share of the row and column. */
  redHW(r: string): [string, string];
}

/** The shares for the forward (`fwd`, and the data gradient) or the weight gradient. */
export function gemmGather(fwd: boolean): GemmGather {
  const pixel = (p: string, image: string): string =>
    `(${p} / OHW) * ${image} + ((${p} % OHW) / OW) * sh * Wp + (${p} % OW) * sw`;
  const tap = (k: string): string => `(${k} / KHW) * plane + ((${k} % KHW) / KW) * dh * Wp + (${k} % KW) * dw`;
  const pixelHW = (p: string): [string, string] => [`((${p} % OHW) / OW) * sh`, `(${p} % OW) * sw`];
  const tapHW = (k: string): [string, string] => [`((${k} % KHW) / KW) * dh`, `(${k} % KW) * dw`];
  return fwd
    ? { rowBase: (m) => pixel(m, 'C * plane'), rowHW: pixelHW, redOff: tap, redHW: tapHW }
    : { rowBase: tap, rowHW: tapHW, redOff: (r) => pixel(r, 'image'), redHW: pixelHW };
}
