/**
 * The sex an archive already records for a film, for predict's recorded_sex, recorded_age and
 * agrees columns: from the DICOM header's PatientSex (0010,0040) and PatientAge (0010,1010), or
 * from a labels CSV (--labels). How PatientSex values are read:
 * - M, F, O (padding spaces trimmed) as recorded; lowercase m, f, o are taken as M, F, O (the
 *   standard's values are upper case, but a lowercase letter is unambiguous);
 * - absent or empty: no recorded sex, the film is one to fill in;
 * - anything else (FEMALE, X, a long or garbled value): not a value the standard allows, so no
 *   recorded sex either; the summary counts these films and names a few, with what they hold.
 * PatientAge is copied as recorded (trimmed); it is not interpreted.
 */
import { open, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readDicomPatientTags, sniffFormat } from '@spine/imaging';
import { DEFAULT_NUMERIC_SEX, describeSexValues, MALE, parseCsv, parseSex } from '@spine/models';
import { CliError } from '../ui/errors.js';

export type RecordedSex = 'M' | 'F' | 'O' | '';

export interface RecordedInfo {
  sex: RecordedSex;
  /** PatientAge as recorded, '' when absent. */
  age: string;
  /** The PatientSex value when it is not one the standard allows (the summary shows it). */
  malformed?: string;
  /** The film is DICOM (its header was read). */
  dicom?: boolean;
}

const NOTHING: RecordedInfo = { sex: '', age: '' };

/** The standard's reading of a PatientSex value (see the module comment). */
export function interpretPatientSex(value: string | undefined): Pick<RecordedInfo, 'sex' | 'malformed'> {
  const v = (value ?? '').trim();
  if (v === '') return { sex: '' };
  const upper = v.toUpperCase();
  if (upper === 'M' || upper === 'F' || upper === 'O') return { sex: upper };
  return { sex: '', malformed: v };
}

/** Bytes read first: the patient module sits near the start; a longer header is read whole. */
const HEADER_PREFIX = 64 * 1024;

/**
 * What a film's DICOM header records; nothing for other formats (they carry no sex), and nothing
 * for a header that cannot be parsed (the prediction reports that film's real problem).
 */
export async function readRecordedInfo(path: string): Promise<RecordedInfo> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return NOTHING;
  }
  try {
    const size = (await handle.stat()).size;
    const head = new Uint8Array(Math.min(size, HEADER_PREFIX));
    await handle.read(head, 0, head.length, 0);
    if (sniffFormat(head) !== 'dicom') return NOTHING;
    let tags;
    try {
      tags = readDicomPatientTags(head, path);
    } catch {
      if (size <= head.length) return { ...NOTHING, dicom: true };
      const whole = new Uint8Array(size);
      await handle.read(whole, 0, size, 0);
      try {
        tags = readDicomPatientTags(whole, path);
      } catch {
        return { ...NOTHING, dicom: true };
      }
    }
    return { ...interpretPatientSex(tags.patientSex), age: tags.patientAge ?? '', dicom: true };
  } finally {
    await handle.close();
  }
}

/**
 * The sexes a labels CSV records, by absolute film path. The CSV is train's: columns `file` and
 * `sex` (names case-insensitive), `file` relative to `base`, sex in any spelling train accepts
 * (F/M, female/male, 0/1 as 0 = female). A row train would refuse is refused here, with its line.
 */
export async function readLabelSexes(csvPath: string, base: string): Promise<Map<string, 'M' | 'F'>> {
  let text: string;
  try {
    text = await readFile(csvPath, 'utf8');
  } catch (e) {
    throw new CliError(
      `--labels ${csvPath} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      'Pass the labels CSV (columns file and sex).',
    );
  }
  let table;
  try {
    table = parseCsv(text);
  } catch (e) {
    throw new CliError(
      `--labels ${csvPath} is not a readable CSV (${(e as Error).message})`,
      'Pass the labels CSV (columns file and sex).',
    );
  }
  const iFile = table.header.indexOf('file');
  const iSex = table.header.indexOf('sex');
  if (iFile < 0 || iSex < 0)
    throw new CliError(
      `--labels ${csvPath} has no '${iFile < 0 ? 'file' : 'sex'}' column (header: ${table.header.join(', ')})`,
      'A labels CSV has the columns file and sex, as train reads it.',
    );
  const out = new Map<string, 'M' | 'F'>();
  const firstLine = new Map<string, number>();
  for (const row of table.rows) {
    const f = row.fields;
    if (f.every((v) => v.trim() === '')) continue;
    const name = (f[iFile] ?? '').trim();
    const path = resolve(base, name);
    const seen = firstLine.get(path);
    if (seen !== undefined)
      throw new CliError(
        `${csvPath} line ${row.line}: ${name} is listed again (first on line ${seen})`,
        'A labels CSV lists each film once, as train requires.',
      );
    firstLine.set(path, row.line);
    const label = parseSex(f[iSex] ?? '');
    if (label === undefined)
      throw new CliError(
        `${csvPath} line ${row.line}: unknown sex ${JSON.stringify((f[iSex] ?? '').trim())} for ${name}`,
        `Accepted: ${describeSexValues(DEFAULT_NUMERIC_SEX)}.`,
      );
    out.set(path, label === MALE ? 'M' : 'F');
  }
  return out;
}
