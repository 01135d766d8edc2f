// WGSL generators shared by workgroup-tiled GEMM kernels (the GPU matmul here, the GPU conv in
// @spine/nn): both keep their tiles in workgroup memory k-major as vec4s, As[kk * BM/4 + m/4] and
// Bs[kk * BN/4 + n/4], and each thread a tm x tn block of C as vec4 accumulators acc_r_q
// (row r, columns 4q..4q+3) at tile rows lid.y*tm.. and columns lid.x*tn..

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Declarations of the zeroed accumulators acc_r_q (tm rows, tn / 4 vec4 columns). */
export function tileAccumulators(tm: number, tn: number, indent = '  '): string[] {
  return range(tm).flatMap((r) => range(tn / 4).map((q) => `${indent}var acc_${r}_${q} = vec4<f32>(0.0);`));
}

/**
 * The loop over one staged k step of `bk`: per kk, tm/4 + tn/4 vec4 reads from As and Bs (the
 * tiles are bm and bn wide), then tm * tn/4 vec4 multiply-adds into the accumulators.
 */
export function tileInnerProduct(o: { tm: number; tn: number; bm: number; bn: number; bk: number }, indent = '    '): string[] {
  const { tm, tn, bm, bn, bk } = o;
  const L = [`${indent}for (var kk = 0u; kk < ${bk}u; kk++) {`];
  for (const p of range(tm / 4)) L.push(`${indent}  let a${p} = As[kk * ${bm / 4}u + lid.y * ${tm / 4}u + ${p}u];`);
  for (const q of range(tn / 4)) L.push(`${indent}  let b${q} = Bs[kk * ${bn / 4}u + lid.x * ${tn / 4}u + ${q}u];`);
  for (const r of range(tm)) for (const q of range(tn / 4)) L.push(`${indent}  acc_${r}_${q} += a${Math.floor(r / 4)}[${r % 4}] * b${q};`);
  L.push(`${indent}}`);
  return L;
}
