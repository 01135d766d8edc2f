export {
  FILM,
  SEX_EFFECTS,
  SIZE_CORRELATION,
  anatomyFeatures,
  sampleSubject,
  thyroidCalcificationProbability,
} from './phantom.js';
export type { Nuisance, Region, Sex, SexEffect, SubjectParams } from './phantom.js';
export { renderFilm, type RenderedFilm, type RoiBox } from './render.js';
export { generateDataset, labelsCsv, LABELS_HEADER, type GenerateOptions, type LabelRow } from './dataset.js';
export { measureSeparability, type SeparabilityResult } from './separability.js';
export { createRng, mixSeed, mulberry32, type Rng } from './prng.js';
export { SAMPLE } from './sample-spec.js';
