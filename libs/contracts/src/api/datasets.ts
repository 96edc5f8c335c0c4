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
