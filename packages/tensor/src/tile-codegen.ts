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
export function tileInnerProduct(
  o: { tm: number; tn: number; bm: number; bn: number; bk: number },
  indent = '    ',
): string[] {
  const { tm, tn, bm, bn, bk } = o;
  const L = [`${indent}for (var kk = 0u; kk < ${bk}u; kk++) {`];
  for (const p of range(tm / 4)) L.push(`${indent}  let a${p} = As[kk * ${bm / 4}u + lid.y * ${tm / 4}u + ${p}u];`);
  for (const q of range(tn / 4)) L.push(`${indent}  let b${q} = Bs[kk * ${bn / 4}u + lid.x * ${tn / 4}u + ${q}u];`);
  for (const r of range(tm))
    for (const q of range(tn / 4)) L.push(`${indent}  acc_${r}_${q} += a${Math.floor(r / 4)}[${r % 4}] * b${q};`);
  L.push(`${indent}}`);
  return L;
}

/**
 * One operand's tile staged from global memory into a k-major workgroup tile, through registers:
 * `load` reads this thread's share of the tile at k step `k0` into registers (issued before the
 * previous step's arithmetic, so the reads are in flight while it runs), `store` writes them to
 * workgroup memory. Consecutive threads take consecutive units along the operand's contiguous
 * axis (coalesced reads), whichever axis that is: 'k' (row-major A, transposed B) or 'mn'
 * (transposed A, row-major B). With `vec4` a unit is four values along that axis (the axis
 * length must then be a multiple of 4, so a vec4 is wholly in bounds or wholly out); values
 * along k are scattered into the k-major tile, values along m/n are stored as one vec4.
 */
export interface TileStaging {
  /** Workgroup array (k-major vec4s: tile[kk * width/4 + mn/4]). */
  tile: string;
  /** Tile extent along m (or n); a multiple of 4. */
  width: number;
  bk: number;
  threads: number;
  along: 'k' | 'mn';
  vec4: boolean;
  /** Register name prefix (unique per operand). */
  reg: string;
  /**
   * The read of tile element (mn, kk) (vec4: the unit starting there) as WGSL: `ok`, whether it
   * is in bounds, and `at`, the index into the global array (vec4 units when vec4).
   */
  read: (mn: string, kk: string) => { ok: string; at: string; array: string };
  /** The global array holds f16 (f16 or vec4<f16>): reads widen to f32, the tile stays f32. */
  half?: boolean;
  /**
   * A map applied to each unit read in bounds (WGSL of the value read, of type f32 or vec4<f32>,
   * and the unit's mn and kk): out-of-bounds units stay zero.
   */
  map?: (value: string, mn: string, kk: string) => string;
}

/** The global read of a staging unit, widened to f32 for f16 operands, then `map`ped. */
function globalRead(s: TileStaging, r: { at: string; array: string }): string {
  const raw = `${r.array}[${r.at}]`;
  const v = s.half ? `${s.vec4 ? 'vec4<f32>' : 'f32'}(${raw})` : raw;
  return s.map ? s.map(v, 'mn', 'kk') : v;
}

function stagingUnits(s: TileStaging): { count: number; perThread: number } {
  const count = (s.width * s.bk) / (s.vec4 ? 4 : 1);
  return { count, perThread: Math.ceil(count / s.threads) };
}

/** (mn, kk) of unit `i` of the tile, as WGSL lets. */
function unitCoords(s: TileStaging, i: string): string {
  if (s.along === 'k') {
    const per = s.vec4 ? s.bk / 4 : s.bk;
    return `let mn = ${i} / ${per}u; let kk = (${i} % ${per}u)${s.vec4 ? ' * 4u' : ''};`;
  }
  const per = s.vec4 ? s.width / 4 : s.width;
  return `let mn = (${i} % ${per}u)${s.vec4 ? ' * 4u' : ''}; let kk = ${i} / ${per}u;`;
}

/** Declarations of the staging registers (before the k loop). */
export function stagingRegisters(s: TileStaging, indent = '  '): string[] {
  const t = s.vec4 ? 'vec4<f32>' : 'f32';
  return range(stagingUnits(s).perThread).map((j) => `${indent}var ${s.reg}${j}: ${t};`);
}

/** Read this thread's units of the tile at k step `k0` (a WGSL expression) into the registers. */
export function stagingLoad(s: TileStaging, indent: string): string[] {
  const { count, perThread } = stagingUnits(s);
  const L: string[] = [];
  for (const j of range(perThread)) {
    const i = `tid + ${j * s.threads}u`;
    const r = s.read('mn', 'kk');
    const tail = (j + 1) * s.threads > count ? ` && ${i} < ${count}u` : '';
    L.push(`${indent}{`, `${indent}  ${unitCoords(s, `(${i})`)}`);
    L.push(`${indent}  ${s.reg}${j} = ${s.vec4 ? 'vec4<f32>(0.0)' : '0.0'};`);
    L.push(`${indent}  if (${r.ok}${tail}) { ${s.reg}${j} = ${globalRead(s, r)}; }`);
    L.push(`${indent}}`);
  }
  return L;
}

/** Write the registers into the workgroup tile. */
export function stagingStore(s: TileStaging, indent: string): string[] {
  const { count, perThread } = stagingUnits(s);
  const w4 = s.width / 4;
  const L: string[] = [];
  for (const j of range(perThread)) {
    const i = `tid + ${j * s.threads}u`;
    const body: string[] = [unitCoords(s, `(${i})`)];
    const v = `${s.reg}${j}`;
    if (!s.vec4) body.push(`${s.tile}[kk * ${w4}u + mn / 4u][mn % 4u] = ${v};`);
    else if (s.along === 'mn') body.push(`${s.tile}[kk * ${w4}u + mn / 4u] = ${v};`);
    else for (const c of range(4)) body.push(`${s.tile}[(kk + ${c}u) * ${w4}u + mn / 4u][mn % 4u] = ${v}[${c}];`);
    const guard = (j + 1) * s.threads > count ? `if (${i} < ${count}u) ` : '';
    L.push(`${indent}${guard}{ ${body.join(' ')} }`);
  }
  return L;
}

/**
 * Scalar staging straight from global to workgroup memory in a loop (no prefetch registers):
 * the fallback for operands whose contiguous axis is not a multiple of 4 long, kept short so
 * that it compiles quickly.
 */
export function stagingDirect(s: TileStaging, indent: string): string[] {
  const { count } = stagingUnits(s);
  const r = s.read('mn', 'kk');
  return [
    `${indent}for (var i = tid; i < ${count}u; i += ${s.threads}u) {`,
    `${indent}  ${unitCoords(s, 'i')}`,
    `${indent}  var v = 0.0;`,
    `${indent}  if (${r.ok}) { v = ${globalRead(s, r)}; }`,
    `${indent}  ${s.tile}[kk * ${s.width / 4}u + mn / 4u][mn % 4u] = v;`,
    `${indent}}`,
  ];
}

/**
 * The k loop of a workgroup-tiled GEMM over [kStart, kEnd) (WGSL names). vec4 stagings use
 * register prefetch: the next step's global reads are issued before this step's arithmetic.
 * Scalar ones load in place (stagingDirect). Expects `tid` and the accumulators declared;
 * staging reads may use `k0`, which is the step being loaded.
 */
export function tiledKLoop(
  stagings: readonly TileStaging[],
  o: { tm: number; tn: number; bm: number; bn: number; bk: number },
): string[] {
  const pre = stagings.filter((s) => s.vec4);
  const direct = stagings.filter((s) => !s.vec4);
  const L: string[] = [];
  for (const s of pre) L.push(...stagingRegisters(s));
  L.push('  var k0 = kStart;');
  if (pre.length) {
    L.push('  if (k0 < kEnd) {');
    for (const s of pre) L.push(...stagingLoad(s, '    '));
    L.push('  }');
  }
  L.push('  loop {');
  L.push('    if (k0 >= kEnd) { break; }');
  for (const s of pre) L.push(...stagingStore(s, '    '));
  for (const s of direct) L.push(...stagingDirect(s, '    '));
  L.push('    workgroupBarrier();');
  L.push(`    k0 += ${o.bk}u;`);
  if (pre.length) {
    L.push('    if (k0 < kEnd) {');
    for (const s of pre) L.push(...stagingLoad(s, '      '));
    L.push('    }');
  }
  L.push(...tileInnerProduct(o));
  L.push('    workgroupBarrier();');
  L.push('  }');
  return L;
}
