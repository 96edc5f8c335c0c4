export * from './types';
export { DatasetFormatError } from './errors';
export { Rng } from './prng';
export { createRaster, cropRaster, decodeImage, encodePng, resizeBilinear, withChannels, type Raster } from './image/raster';
export { parseManifest, parseManifestText } from './format/manifest';
export { formatLabels, isValidSampleId, parseLabels, type LabelRow } from './format/labels';
export { datasetPaths } from './format/paths';
export { loadDataset, loadDatasetView, readDatasetHeader, type DatasetHeader, type LoadOptions } from './format/read';
export { DatasetWriter, writeDataset, type WriteOptions } from './format/write';
