/**
 * A small RFC 4180 CSV reader: quoted fields (with "" escapes, commas and line breaks inside),
 * a UTF-8 byte-order mark, CRLF, LF or CR line ends, and blank lines skipped. Spreadsheet exports
 * of label files have all of these, and a split(',') reader silently shifts columns on the first
 * quoted name.
 */

/** One data row with the 1-based line it starts on (a quoted field may span lines). */
export interface CsvRow {
  readonly line: number;
  readonly fields: readonly string[];
}

export interface CsvTable {
  readonly header: readonly string[];
  readonly headerLine: number;
  readonly rows: readonly CsvRow[];
}

/** A malformed CSV (an unterminated quote, text after a closing quote); `line` is 1-based. */
export class CsvSyntaxError extends Error {
  override readonly name = 'CsvSyntaxError';
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

/** Splits text into records of fields. Whitespace is kept as written (callers trim per column). */
export function parseCsvRecords(text: string): CsvRow[] {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const rows: CsvRow[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let rowLine = 1;
  let quoted = false; // inside a quoted field
  let afterQuote = false; // a quoted field just closed; only a separator or line end may follow
  let empty = true; // the current record has no characters yet (blank lines are skipped)
  const endRecord = (): void => {
    if (!empty) {
      fields.push(field);
      rows.push({ line: rowLine, fields });
    }
    fields = [];
    field = '';
    empty = true;
    afterQuote = false;
  };
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
          afterQuote = true;
        }
      } else {
        if (ch === '\n' || (ch === '\r' && src[i + 1] !== '\n')) line++;
        field += ch;
      }
      continue;
    }
    if (ch === ',') {
      fields.push(field);
      field = '';
      afterQuote = false;
      empty = false;
    } else if (ch === '\r' || ch === '\n') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      endRecord();
      line++;
      rowLine = line;
    } else if (afterQuote) {
      throw new CsvSyntaxError(line, `unexpected character ${JSON.stringify(ch)} after a closing quote`);
    } else if (ch === '"' && field.trim() === '') {
      // A quote opens a field only at its start (leading spaces tolerated, as Excel writes none).
      field = '';
      quoted = true;
      empty = false;
    } else {
      field += ch;
      empty = false;
    }
  }
  if (quoted) throw new CsvSyntaxError(rowLine, 'a quoted field is never closed (missing ")');
  endRecord();
  return rows;
}

/** Parses a CSV whose first record is a header; header names are trimmed and lower-cased. */
export function parseCsv(text: string): CsvTable {
  const records = parseCsvRecords(text);
  const first = records[0];
  if (!first) return { header: [], headerLine: 1, rows: [] };
  return {
    header: first.fields.map((h) => h.trim().toLowerCase()),
    headerLine: first.line,
    rows: records.slice(1),
  };
}
