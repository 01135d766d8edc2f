export { CbirError, isCbirError } from './errors.js';
export { greyPlaneFromImage, workingHeight, workingPlane, type GreyPlane } from './grey.js';
export { cannyEdges, cannyKernels, type CannyOptions, type CannyResult } from './canny.js';
export { PHOG_DEFAULTS, orientationVotes, phogDescriptor, phogFromVotes, phogLength, type OrientationVotes, type PhogOptions, type PixelBox } from './phog.js';
