import { streamFor, type Rng } from './prng.js';

export type Region = 'cervical' | 'lumbar';
export type Sex = 'F' | 'M';

/** Film sizes of the NHANES II digitised collection, in pixels, and the film field in mm. */
export const FILM = {
  cervical: { width: 1462, height: 1755, widthMm: 203 },
  lumbar: { width: 2048, height: 2487, widthMm: 356 },
} as const;

/** A normally distributed trait with sex-specific means and a common SD (mm unless noted). */
export interface SexEffect {
  F: number;
  M: number;
  sd: number;
  /** What it is, for the README table. */
  what: string;
}

/**
 * Designed sex differences. Means are in the range reported for adult lateral films (vertebral
 * body AP depth, canal, neck circumference-derived soft-tissue depth); the SDs are widened so the
 * sexes overlap and no single cue decides. Cohen's d = (M - F) / sd. Traits share a body-size
 * factor (correlation SIZE_CORRELATION), as vertebral dimensions do in people, which makes the
 * cues partly redundant. README.md tabulates these and the measured ceiling.
 */
export const SEX_EFFECTS: Record<Region, Record<string, SexEffect>> = {
  cervical: {
    bodyDepth: { F: 15.2, M: 17.0, sd: 1.1, what: 'vertebral body AP depth C3-C7' },
    bodyHeight: { F: 12.6, M: 13.7, sd: 1.1, what: 'vertebral body height' },
    canalDepth: { F: 15.4, M: 16.2, sd: 1.3, what: 'spinal canal AP depth' },
    neckDepth: { F: 103, M: 122, sd: 10, what: 'neck soft-tissue AP depth at C5' },
    larynx: { F: 0.8, M: 5.8, sd: 2.1, what: 'laryngeal prominence, mm in front of the neck line' },
  },
  lumbar: {
    bodyDepth: { F: 40.5, M: 45.8, sd: 3.0, what: 'vertebral body AP depth L1-L5' },
    bodyHeight: { F: 26.0, M: 28.0, sd: 2.0, what: 'vertebral body height' },
    canalDepth: { F: 17.0, M: 17.8, sd: 1.6, what: 'spinal canal AP depth' },
    abdomenDepth: { F: 212, M: 232, sd: 28, what: 'abdominal soft-tissue AP depth' },
    breast: { F: 1.0, M: 0.1, sd: 0.35, what: 'breast shadow over T12-L2 (0 = none, 1 = typical)' },
  },
};

/** Correlation of the skeletal traits through a shared body-size factor. */
export const SIZE_CORRELATION = 0.5;

/** Probability of thyroid cartilage calcification on the film, by sex, rising with age. */
export function thyroidCalcificationProbability(sex: Sex, age: number): number {
  const base = sex === 'M' ? 0.3 : 0.1;
  return Math.min(0.95, base + (sex === 'M' ? 0.008 : 0.004) * Math.max(0, age - 30));
}

/** Film-acquisition nuisance, unrelated to the subject (paper Figure 4). */
export interface Nuisance {
  rotationDeg: number;
  scale: number;
  /** Anatomy offset as a fraction of film size. */
  offsetX: number;
  offsetY: number;
  exposure: number;
  contrast: number;
  /** Anode heel effect: exposure changes linearly from top to bottom by this fraction. */
  heel: number;
  /** Blur radius in mm at film scale. */
  blurMm: number;
  noise: number;
  /** Unexposed (white) collimation margins as fractions of the film, per side. */
  borders: { top: number; bottom: number; left: number; right: number };
  /** A dark scanner frame line near the film edge. */
  frame: boolean;
  /** Lead marker letter position (fractions) or none. */
  marker: { x: number; y: number; letter: 'L' | 'R' } | null;
  /** Shoulder height (cervical, fraction of film height from top where shoulders start). */
  shoulderLevel: number;
  /** Bowel-gas pockets (lumbar). */
  gasPockets: number;
}

export interface SubjectParams {
  region: Region;
  subjectId: string;
  sex: Sex;
  age: number;
  /** Anatomy in mm (see SEX_EFFECTS for the sex-dependent ones). */
  bodyDepth: number;
  bodyHeight: number;
  canalDepth: number;
  softTissueDepth: number;
  larynx: number;
  thyroidCalcified: boolean;
  breast: number;
  /** Age effects, not sex cues: disc height factor (1 young, ~0.6 old) and osteophyte size (mm). */
  discFactor: number;
  osteophytes: number;
  lordosis: number;
  boneDensity: number;
  nuisance: Nuisance;
}

const ANATOMY = 1;
const NUISANCE = 2;

function trait(rng: Rng, effect: SexEffect, sex: Sex, size: number): number {
  const r = Math.sqrt(SIZE_CORRELATION);
  return effect[sex] + effect.sd * (r * size + Math.sqrt(1 - r * r) * rng.normal());
}

function sampleNuisance(rng: Rng, region: Region): Nuisance {
  const border = (): number => (rng.bernoulli(0.45) ? rng.uniform(0.01, 0.12) : 0);
  return {
    rotationDeg: rng.uniform(-10, 10),
    scale: rng.uniform(0.92, 1.08),
    offsetX: rng.uniform(-0.07, 0.07),
    offsetY: rng.uniform(-0.05, 0.05),
    exposure: rng.uniform(0.75, 1.3),
    contrast: rng.uniform(0.8, 1.25),
    heel: rng.uniform(-0.15, 0.15),
    blurMm: rng.uniform(0.15, 0.6),
    noise: rng.uniform(0.015, 0.045),
    borders: { top: border(), bottom: border(), left: border(), right: border() },
    frame: rng.bernoulli(0.35),
    marker: rng.bernoulli(0.7)
      ? { x: rng.uniform(0.06, 0.9), y: rng.uniform(0.05, 0.9), letter: rng.bernoulli(0.5) ? 'L' : 'R' }
      : null,
    shoulderLevel: region === 'cervical' ? rng.uniform(0.68, 0.86) : 1,
    gasPockets: region === 'lumbar' ? rng.int(0, 6) : 0,
  };
}

/**
 * Draws subject `index` of a data set. Sex alternates F/M by index (balanced classes in every
 * prefix); everything else comes from seeded streams keyed by (seed, index).
 */
export function sampleSubject(region: Region, seed: number, index: number): SubjectParams {
  const rng = streamFor(seed, index, ANATOMY);
  const sex: Sex = index % 2 === 0 ? 'F' : 'M';
  const age = Math.round(rng.uniform(25, 74));
  const size = rng.normal();
  const fx = SEX_EFFECTS[region];
  const agedness = (age - 25) / 50; // 0..1
  const base = {
    region,
    subjectId: `${region === 'cervical' ? 'C' : 'L'}${String(seed).padStart(4, '0')}-${String(index).padStart(5, '0')}`,
    sex,
    age,
    bodyDepth: trait(rng, fx['bodyDepth']!, sex, size),
    bodyHeight: trait(rng, fx['bodyHeight']!, sex, size),
    canalDepth: trait(rng, fx['canalDepth']!, sex, size),
    discFactor: Math.max(0.45, 1 - 0.45 * agedness * rng.uniform(0.4, 1.4)),
    osteophytes: Math.max(0, rng.normal(agedness * 3.0 - 0.6, 0.9)),
    boneDensity: Math.max(0.55, rng.normal(1.05 - 0.3 * agedness, 0.08)),
  };
  if (region === 'cervical') {
    return {
      ...base,
      softTissueDepth: trait(rng, fx['neckDepth']!, sex, size),
      larynx: Math.max(0, rng.normal(fx['larynx']![sex], fx['larynx']!.sd)),
      thyroidCalcified: rng.bernoulli(thyroidCalcificationProbability(sex, age)),
      breast: 0,
      lordosis: rng.uniform(-2, 12),
      nuisance: sampleNuisance(streamFor(seed, index, NUISANCE), region),
    };
  }
  const breastFx = fx['breast']!;
  return {
    ...base,
    softTissueDepth: trait(rng, fx['abdomenDepth']!, sex, 0),
    larynx: 0,
    thyroidCalcified: false,
    breast: Math.max(0, rng.normal(breastFx[sex], breastFx.sd)),
    lordosis: rng.uniform(8, 28),
    nuisance: sampleNuisance(streamFor(seed, index, NUISANCE), region),
  };
}

/** The subject's own anatomy as a feature vector (no nuisance), for the separability check. */
export function anatomyFeatures(p: SubjectParams): number[] {
  const common = [p.bodyDepth, p.bodyHeight, p.canalDepth, p.softTissueDepth, p.age, p.discFactor, p.osteophytes];
  return p.region === 'cervical' ? [...common, p.larynx, p.thyroidCalcified ? 1 : 0] : [...common, p.breast];
}
