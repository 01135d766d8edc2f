/**
 * The study page as a small document (headings, paragraphs, tables, notes) rendered twice: to
 * Markdown (study.md) and to one self-contained HTML page (study.html: inline style, no scripts,
 * links relative to the study folder so the folder can move).
 */
import { escapeHtml } from '../report/html.js';

/** Inline text: plain, bold, code, or a link (href relative to the study folder). */
export type Inline = string | { b: string } | { code: string } | { a: string; href: string };

export type Block =
  | { h: 1 | 2 | 3; text: string; id?: string }
  | { p: Inline[] }
  | { note: Inline[] }
  | { table: { header: string[]; rows: Inline[][][]; numeric?: boolean[] } }
  | { list: Inline[][] };

function inlineMd(parts: readonly Inline[]): string {
  return parts
    .map((x) => {
      if (typeof x === 'string') return x.replace(/\|/g, '\\|');
      if ('b' in x) return `**${x.b}**`;
      if ('code' in x) return `\`${x.code}\``;
      return `[${x.a}](${encodeURI(x.href)})`;
    })
    .join('');
}

function inlineHtml(parts: readonly Inline[]): string {
  return parts
    .map((x) => {
      if (typeof x === 'string') return escapeHtml(x);
      if ('b' in x) return `<strong>${escapeHtml(x.b)}</strong>`;
      if ('code' in x) return `<code>${escapeHtml(x.code)}</code>`;
      return `<a href="${escapeHtml(encodeURI(x.href))}">${escapeHtml(x.a)}</a>`;
    })
    .join('');
}

export function renderMarkdown(blocks: readonly Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    if ('h' in b) out.push(`${'#'.repeat(b.h)} ${b.text}`);
    else if ('p' in b) out.push(inlineMd(b.p));
    else if ('note' in b) out.push(`> ${inlineMd(b.note)}`);
    else if ('list' in b) out.push(b.list.map((item) => `- ${inlineMd(item)}`).join('\n'));
    else {
      const { header, rows, numeric } = b.table;
      out.push(
        [
          `| ${header.map((h) => h.replace(/\|/g, '\\|')).join(' | ')} |`,
          `|${header.map((_, i) => (numeric?.[i] ? '---:' : '---')).join('|')}|`,
          ...rows.map((r) => `| ${r.map((c) => inlineMd(c)).join(' | ')} |`),
        ].join('\n'),
      );
    }
  }
  return `${out.join('\n\n')}\n`;
}

const STYLE = `
body { font-family: 'DejaVu Sans', 'Liberation Sans', Arial, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2.2rem; } h3 { margin-top: 1.6rem; }
.note { background: #fff8e1; border-left: 4px solid #f1c40f; padding: .5rem .8rem; margin: .5rem 0; }
table { border-collapse: collapse; margin: .5rem 0 1rem; } th, td { border: 1px solid #ccc; padding: .25rem .6rem; text-align: left; font-size: .9rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; } code { background: #f4f4f4; padding: 0 .2rem; word-break: break-all; }
`;

export function renderHtml(title: string, blocks: readonly Block[]): string {
  const body = blocks.map((b) => {
    if ('h' in b) return `<h${b.h}${b.id ? ` id="${escapeHtml(b.id)}"` : ''}>${escapeHtml(b.text)}</h${b.h}>`;
    if ('p' in b) return `<p>${inlineHtml(b.p)}</p>`;
    if ('note' in b) return `<p class="note">${inlineHtml(b.note)}</p>`;
    if ('list' in b) return `<ul>${b.list.map((item) => `<li>${inlineHtml(item)}</li>`).join('')}</ul>`;
    const { header, rows, numeric } = b.table;
    const cls = (i: number) => (numeric?.[i] ? ' class="num"' : '');
    return `<table><thead><tr>${header.map((h, i) => `<th${cls(i)}>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
      .map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${inlineHtml(c)}</td>`).join('')}</tr>`)
      .join('')}</tbody></table>`;
  });
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>\n${body.join('\n')}\n</body></html>\n`;
}
