// A run's spec, verdict rule and prediction row: what predict, export-web and the web page share.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_VERDICT,
  PREDICTION_HEADER,
  callFor,
  csvField,
  formatPredictionRow,
  inputTransform,
  webModelMetadata,
  type ModelConfig,
} from '../src/run/index.js';
import { PAPER_SEQCNN } from '../src/models/sequential-cnn.js';

const v = { threshold: 0.5, uncertainBelow: 0.6 };
const DENSENET: ModelConfig & { kind: 'densenet' } = {
  kind: 'densenet',
  arch: 'densenet121',
  inputSize: 224,
  numClasses: 2,
  dropRate: 0,
  memoryEfficient: false,
  weights: 'imagenet',
  freezeFeaturesEpochs: 0,
  resize: 'shorter-side-crop',
};

describe('run spec', () => {
  it("inputTransform stretches for the sequential CNN and uses DenseNet's recorded resize", () => {
    expect(inputTransform({ ...PAPER_SEQCNN, inputSize: 32 })).toEqual({ width: 32, height: 32, resize: 'stretch' });
    expect(inputTransform(DENSENET)).toEqual({ width: 224, height: 224, resize: 'shorter-side-crop' });
    expect(inputTransform({ ...DENSENET, resize: 'stretch' as const })).toEqual({
      width: 224,
      height: 224,
      resize: 'stretch',
    });
  });
});

describe('verdict rule', () => {
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
    expect(DEFAULT_VERDICT).toEqual(v);
  });
});

describe('prediction row', () => {
  it('fills the recorded columns and says whether the call agrees with the recorded sex', () => {
    expect(PREDICTION_HEADER.split(',')).toHaveLength(8);
    expect(formatPredictionRow({ file: 'a.dcm', probMale: 0.8, recorded: { sex: 'F', age: '041Y' } }, v)).toBe(
      'a.dcm,M,0.800000,no,F,041Y,no,',
    );
    expect(formatPredictionRow({ file: 'b.dcm', probMale: 0.55, recorded: { sex: 'M', age: '' } }, v)).toBe(
      'b.dcm,M,0.550000,yes,M,,yes,',
    );
    expect(formatPredictionRow({ file: 'c.png', probMale: 0.1 }, v)).toBe('c.png,F,0.100000,no,,,,');
    expect(formatPredictionRow({ file: 'd,e.dcm', error: 'not a "DICOM"' }, v)).toBe(
      '"d,e.dcm",,,,,,,"not a ""DICOM"""',
    );
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
  });

  it('writes the web model metadata in the order the page and export-web agree on', () => {
    const m = webModelMetadata(DENSENET, inputTransform(DENSENET), v, { run: 'r', checkpoint: 'best', epoch: 3 });
    expect(Object.keys(m)).toEqual(['format', 'version', 'model', 'transform', 'verdict', 'source']);
    expect(m.format).toBe('spine-web-model');
    expect(JSON.parse(m.model!)).toEqual(DENSENET);
  });
});
