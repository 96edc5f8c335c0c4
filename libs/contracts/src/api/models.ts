/** POST /api/models: register a checkpoint directory readable by the server (local use). */
export interface RegisterModelRequest {
  /** Server-side path of a checkpoint directory (manifest.json + one weights file per section). */
  path: string;
  /** Defaults to a new id; `default` is the model npm start provides. */
  id?: string;
  name?: string;
}
export interface ModelSectionInfo {
  name: string;
  file: string;
  bytes: number;
}
export interface ModelView {
  id: string;
  name: string;
  version: string;
  path: string;
  sections: ModelSectionInfo[];
  createdAt: string;
}
