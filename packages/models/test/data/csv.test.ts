import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, parseCsv, parseCsvRecords } from '../../src/data/index.js';

describe('parseCsv', () => {
  it('reads quoted fields with commas, escaped quotes and line breaks, and keeps start lines', () => {
    const text = 'file,sex,note\r\n"a,b.png",F,"say ""hi"""\r\nc.png,M,"two\r\nlines"\r\nd.png,f,\r\n';
    const t = parseCsv(text);
    expect(t.header).toEqual(['file', 'sex', 'note']);
    expect(t.rows.map((r) => r.fields)).toEqual([
      ['a,b.png', 'F', 'say "hi"'],
      ['c.png', 'M', 'two\r\nlines'],
      ['d.png', 'f', ''],
    ]);
    expect(t.rows.map((r) => r.line)).toEqual([2, 3, 5]);
  });

  it('strips a BOM, lower-cases and trims the header, skips blank lines, accepts LF and CR endings', () => {
    const t = parseCsv('\ufeff File , SEX\n\nx.png,M\ry.png,F');
    expect(t.header).toEqual(['file', 'sex']);
    expect(t.rows).toEqual([
      { line: 3, fields: ['x.png', 'M'] },
      { line: 4, fields: ['y.png', 'F'] },
    ]);
  });

  it('keeps empty trailing fields and an empty table is empty', () => {
    expect(parseCsvRecords('a,,\n')[0]!.fields).toEqual(['a', '', '']);
    expect(parseCsv('')).toEqual({ header: [], headerLine: 1, rows: [] });
  });

  it('reports an unterminated quote and text after a closing quote with their lines', () => {
    expect(() => parseCsv('file,sex\nok.png,F\n"bad.png,M\n')).toThrow(CsvSyntaxError);
    try {
      parseCsv('file,sex\nok.png,F\n"bad.png,M\n');
    } catch (e) {
      expect((e as CsvSyntaxError).line).toBe(3);
    }
    expect(() => parseCsv('file,sex\n"a"x,F\n')).toThrow(/line 2: unexpected character "x"/);
  });
});
