// spine-cli's quick preset is @spine/models' quickTrainingSettings() (the web page trains with it
// too) with the preset name and the data folder. config.json stores it, and a run's config hash
// covers it, so its keys, their order and their values must stay what runs have stored: a change
// here stops earlier runs from resuming.
import { describe, expect, it } from 'vitest';
import { presetConfig } from '../src/run/config.js';

const STORED =
  '{"preset":"quick","seed":0,"splitFractions":[0.7,0.1,0.2],"model":{"numClasses":2,"inputSize":64,' +
  '"inChannels":3,"channels":[16,32,32,32,32],"hidden":[64,64],"conv1":{"kernel":5,"stride":2,"padding":2},' +
  '"conv2":{"stride":1,"padding":1},"lrn":{"size":5,"alpha":0.0005,"beta":0.75,"k":2},"dropout":0,' +
  '"initStd":0.1,"batchNorm":true},"epochs":16,"batchSize":32,"lr":0.04,"classifierLrFactor":1,' +
  '"momentum":0.9,"weightDecay":0.0005,"scheduler":{"type":"multistep","milestones":[10,13],"gamma":0.2},' +
  '"augment":true}';

describe('the quick preset', () => {
  it('serialises as runs have stored it (keys, order and values)', () => {
    const { data, ...rest } = presetConfig('quick');
    expect(data.labels).toBeNull();
    expect(JSON.stringify(rest)).toBe(STORED);
  });
});
