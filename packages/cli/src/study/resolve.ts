/** The study's settings from its flags: regions, each region's films and ROI reference films. */
import { UsageError } from '../ui/errors.js';
import {
  REGIONS,
  dataSourceFlag,
  defaultReferenceSet,
  defaultSyntheticSet,
  syntheticSource,
  type Region,
  type Scale,
  type StudySettings,
} from './settings.js';

export interface StudyFlags {
  scale: Scale;
  regions: Region[] | undefined;
  cervical: string | undefined;
  lumbar: string | undefined;
  roiReference: string | undefined;
}

export function resolveStudySettings(f: StudyFlags): StudySettings {
  const given = REGIONS.filter((r) => f[r] !== undefined);
  // Regions follow the data given, unless named; both with the synthetic default.
  const regions = f.regions ?? (given.length > 0 ? given : [...REGIONS]);
  for (const r of given)
    if (!regions.includes(r)) throw new UsageError(`--${r} is given but --regions leaves ${r} out`, 'study');
  const settings: StudySettings = {
    scale: f.scale,
    regions: REGIONS.filter((r) => regions.includes(r)),
    data: {},
    roiReference: {},
  };
  for (const region of settings.regions) {
    const text = f[region];
    const data =
      text === undefined ? syntheticSource(defaultSyntheticSet(region, f.scale)) : dataSourceFlag(region, text);
    settings.data[region] = data;
    // The paper's CBIR database is of cervical films; synthetic films of either region come with synthetic references.
    if (region === 'cervical' && f.roiReference !== undefined)
      settings.roiReference[region] = { ...dataSourceFlag('roi-reference', f.roiReference), labels: null };
    else settings.roiReference[region] = data.synthetic ? syntheticSource(defaultReferenceSet(region, f.scale)) : null;
  }
  if (f.roiReference !== undefined && !settings.regions.includes('cervical'))
    throw new UsageError('--roi-reference is for the cervical films, and --regions leaves cervical out', 'study');
  return settings;
}
