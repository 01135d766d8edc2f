/**
 * Sex labels. The class index is fixed for the whole project: 0 = female, 1 = male, the order of
 * the paper's confusion matrices (F row first) and of `CLASS_NAMES`, so a network's output unit 0
 * is always "female" whatever the labels file wrote.
 */
export type SexLabel = 0 | 1;

export const FEMALE: SexLabel = 0;
export const MALE: SexLabel = 1;

/** Class names by label index; also the class folder names of a folder dataset. */
export const CLASS_NAMES = ['female', 'male'] as const;
export type ClassName = (typeof CLASS_NAMES)[number];

/**
 * What a numeric 0/1 in the sex column means. Files disagree (NHANES codes 1 = male, 2 = female;
 * others 0 = female), so the choice is explicit and stated in every error about it.
 */
export type NumericSexCoding = '0=female,1=male' | '0=male,1=female';

export const DEFAULT_NUMERIC_SEX: NumericSexCoding = '0=female,1=male';

/** The accepted spellings, for error messages. */
export function describeSexValues(coding: NumericSexCoding): string {
  return `F/M, female/male (any case), or 0/1 read as ${coding.replace(',', ', ')}`;
}

/** Parses one sex cell; undefined when the value is not one of the accepted spellings. */
export function parseSex(value: string, coding: NumericSexCoding = DEFAULT_NUMERIC_SEX): SexLabel | undefined {
  const v = value.trim().toLowerCase();
  if (v === 'f' || v === 'female') return FEMALE;
  if (v === 'm' || v === 'male') return MALE;
  if (v === '0' || v === '1') {
    const zeroIsFemale = coding === '0=female,1=male';
    return (v === '0') === zeroIsFemale ? FEMALE : MALE;
  }
  return undefined;
}
