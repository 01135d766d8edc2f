// The web page trains with @spine/models' quickTrainingSettings(); spine-cli's quick preset must
// be the same settings, or the page's runs would not be the CLI's quick start.
import { quickTrainingSettings } from '@spine/models';
import { describe, expect, it } from 'vitest';
import { presetConfig } from '../src/run/config.js';

describe('the quick preset', () => {
  it("is @spine/models' quickTrainingSettings plus the preset name and the data folder", () => {
    const { preset, data: _data, ...settings } = presetConfig('quick');
    expect(preset).toBe('quick');
    expect(settings).toEqual(quickTrainingSettings());
  });
});
