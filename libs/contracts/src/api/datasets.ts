/** GET /api/datasets and GET /api/datasets/:name */
export interface DatasetView {
  name: string;
  classes: string[];
  views: number;
  splits: { train: number; test: number };
}

/** GET /api/datasets/:name/samples/:sampleId */
export interface SampleViews {
  sampleId: string;
  /** Views the cameras captured (an uncaptured view has no image). */
  captured: number[];
  views: number;
}

/** GET /api/datasets/:name/summary: what a dataset holds, read from its images (computed once per dataset version). */
export interface DatasetDetails {
  name: string;
  samples: number;
  shape: { height: number; width: number; channels: number };
  classes: { name: string; train: number; test: number }[];
  /** Per camera view: samples where it was captured and the fraction where it is missing. */
  perView: { view: number; present: number; missingRate: number }[];
  /** Fraction of all (sample, view) pairs missing. */
  missingRate: number;
  /** Samples with k views captured, k = 0..views. */
  viewsPresentHistogram: number[];
}
