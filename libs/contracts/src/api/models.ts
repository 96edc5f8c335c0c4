/** POST /api/models: register a checkpoint directory readable by the server (local use). */
export interface RegisterModelRequest {
  /**
   * Server-side checkpoint folder (manifest.json + one weights file per section), absolute or relative to
   * the repository; it must lie under a models root (DDNN_MODELS_ROOTS), judged after resolving symlinks.
   */
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
  /** Where the checkpoint lives, never absolute: `models/<name>` (the repository), `<data>/models/<id>`, `<server>/<name>`. */
  path: string;
  sections: ModelSectionInfo[];
  createdAt: string;
}
