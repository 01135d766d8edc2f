// The page's verdict and CSV follow spine-cli predict's: M at P(male) >= threshold, uncertain
// when neither probability reaches uncertainBelow, six decimals, RFC 4180 quoting.
import { describe, expect, it } from 'vitest';
import { callFor, CSV_HEADER, resultsCsv } from '../src/results-csv.js';

const v = { threshold: 0.5, uncertainBelow: 0.6 };

describe('verdict and CSV', () => {
  it('calls M at the threshold and F below it, with the confidence of the called sex', () => {
    expect(callFor(0.5, v)).toEqual({ sex: 'M', confidence: 0.5, uncertain: true });
    expect(callFor(0.25, v)).toEqual({ sex: 'F', confidence: 0.75, uncertain: false });
    expect(callFor(0.6, v).uncertain).toBe(false);
    expect(callFor(0.59, v).uncertain).toBe(true);
    expect(callFor(0.3, { threshold: 0.2, uncertainBelow: 0.6 })).toMatchObject({
      sex: 'M',
      confidence: 0.3,
      uncertain: false,
    });
  });

  it("writes predict's columns, quoting names with commas and quotes, errors in the last column", () => {
    const csv = resultsCsv(
      [
        { file: 'a/b.png', probMale: 0.123456789 },
        { file: 'x,"y".dcm', error: 'not an image' },
        { file: 'm.tif', probMale: 0.9 },
      ],
      v,
    );
    expect(CSV_HEADER).toBe('file,predicted_sex,probability_male,uncertain,recorded_sex,recorded_age,agrees,error');
    expect(csv).toBe(
      [CSV_HEADER, 'a/b.png,F,0.123457,no,,,,', '"x,""y"".dcm",,,,,,,not an image', 'm.tif,M,0.900000,no,,,,', ''].join(
        '\n',
      ),
    );
  });
});
