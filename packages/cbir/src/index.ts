export { CbirError, isCbirError } from './errors.js';
export { greyPlaneFromImage, workingHeight, workingPlane, type GreyPlane } from './grey.js';
export { cannyEdges, cannyKernels, type CannyOptions, type CannyResult } from './canny.js';
export {
  PHOG_DEFAULTS,
  orientationVotes,
  phogDescriptor,
  phogFromVotes,
  phogLength,
  type OrientationVotes,
  type PhogOptions,
  type PixelBox,
} from './phog.js';
export {
  DEFAULT_DESCRIPTOR_SETTINGS,
  DEFAULT_WORKING_WIDTH,
  INDEX_FORMAT,
  INDEX_VERSION,
  RoiIndex,
  describeFilm,
  type DescriptorSettings,
  type Match,
  type ReferenceFilm,
} from './roi-index.js';
export {
  PAPER_CROP,
  cropSide,
  cropSquare,
  paddingFraction,
  shiftInside,
  transferRoi,
  type CropSettings,
  type RoiTransfer,
} from './roi-transfer.js';
export { centreDistance, containment, distribution, iou, type Distribution } from './evaluation.js';
export { roiPreview, type PreviewOptions } from './preview.js';
export { cropPlane, resizePlane } from './plane-ops.js';
