/** GET /api/datasets and GET /api/datasets/:name */
export interface DatasetView {
  name: string;
  classes: string[];
  views: number;
  splits: { train: number; test: number };
}
