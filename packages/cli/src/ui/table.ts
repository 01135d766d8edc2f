/** Plain-text tables: a header, a rule, rows; numbers right-aligned, text left-aligned. */
export type Cell = string | number;

export interface TableOptions {
  /** Rows after which a rule is drawn (e.g. before a total row). */
  ruleBefore?: number[];
}

export function formatTable(
  header: readonly string[],
  rows: readonly (readonly Cell[])[],
  options: TableOptions = {},
): string {
  const text = [header, ...rows].map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === ''));
  const widths = header.map((_, i) => Math.max(...text.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const out = [line(text[0]!), rule];
  text.slice(1).forEach((r, i) => {
    if (options.ruleBefore?.includes(i)) out.push(rule);
    out.push(line(r));
  });
  return out.join('\n');
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(3);
}
