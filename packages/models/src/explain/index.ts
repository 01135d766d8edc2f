export { registerCamTarget, camTargetFor, runChildren, type CamTarget } from './cam-target.js';
export { gradCam, camFromActivation, type GradCamResult, type GradCamOptions } from './grad-cam.js';
export { upsampleBilinear, scaleToMax, camOverlay, heatOnImage, type OverlayOptions } from './heatmap.js';
export {
  CamAverager,
  classAverageOverlay,
  type ClassAverage,
  type ClassAverageFigureOptions,
} from './class-average.js';
export { explainFiles, type FileCam, type FileCamError, type ExplainFilesOptions } from './files.js';
