export { ImagingError, isImagingError } from './errors.js';
export {
  DEFAULT_MAX_PIXELS,
  MAX_PIXELS,
  checkDimensions,
  decodeLimit,
  cloneImage,
  createImage,
  imageFromData,
  imageFromGrey8,
  toUint8,
  type Channels,
  type DecodeOptions,
  type Image,
} from './image.js';
export { sniffFormat, type ImageFormat } from './sniff.js';
export { decodeImage } from './decode.js';
export { decodePng } from './codecs/png.js';
export { encodePng, encodePngSamples, type PngEncodeOptions, type PngSamples } from './codecs/png-encode.js';
export {
  fflateBackend,
  setZlibBackend,
  zlibBackend,
  type DeflateStrategy,
  type ZlibBackend,
} from './codecs/zlib-backend.js';
export { decodeTiff } from './codecs/tiff.js';
export { decodeJpeg } from './codecs/jpeg.js';
export { decodeDicom } from './codecs/dicom.js';
export { readDicomPatientTags, type DicomPatientTags } from './codecs/dicom-tags.js';
export { toGrey, toPlanar, toRgb } from './ops/convert.js';
export { resize, resizeShorterSide, resampleTaps, type ResampleTaps } from './ops/resize.js';
export { crop, flip, rotate, type Rect, type RotateOptions } from './ops/geometry.js';
export { equaliseHistogram, normaliseMinMax, percentile, percentileWindow, standardise } from './ops/intensity.js';
export { drawRect, fillRect } from './ops/draw.js';
export { blendHeatmap, colormap, type ColormapName, type HeatmapOptions } from './ops/colormap.js';
export { contactSheet, type ContactSheetOptions } from './ops/contact-sheet.js';
