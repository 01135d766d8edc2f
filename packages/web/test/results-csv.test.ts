// The page's CSV is spine-cli predict's: its columns, six decimals, RFC 4180 quoting.
import { PREDICTION_HEADER as CSV_HEADER } from '@spine/models/browser';
import { describe, expect, it } from 'vitest';
import { resultsCsv } from '../src/results-csv.js';

const v = { threshold: 0.5, uncertainBelow: 0.6 };

describe('results CSV', () => {
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
