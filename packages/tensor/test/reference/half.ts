// float64 reference for rounding to f16: the nearest multiple of the f16 quantum at x's binade,
// ties to the even multiple, infinity from 65536 (65504 + half an ulp rounds up to it). Written
// with float64 arithmetic, not the bit manipulation the engine uses.

/** x rounded to the nearest f16 value (ties to even), as a number. */
export function refRoundF16(x: number): number {
  if (Number.isNaN(x) || !Number.isFinite(x) || x === 0) return x;
  let e = Math.floor(Math.log2(Math.abs(x)));
  // log2 can be off by one next to a power of two: settle the binade exactly.
  while (2 ** e > Math.abs(x)) e--;
  while (2 ** (e + 1) <= Math.abs(x)) e++;
  const q = 2 ** (Math.max(e, -14) - 10);
  const n = x / q; // exact: q is a power of two
  let r = Math.round(n);
  if (Math.abs(n - Math.trunc(n)) === 0.5) r = 2 * Math.round(n / 2); // tie: the even neighbour
  const v = r * q;
  if (Math.abs(v) >= 65536) return v > 0 ? Infinity : -Infinity;
  return v === 0 ? (x < 0 ? -0 : 0) : v;
}
