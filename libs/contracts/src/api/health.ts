/** GET /api/health: anyone sees up or down and the version; the operator token also sees the details. */
export interface HealthResponse {
  status: 'up' | 'down';
  version: string;
  uptimeSeconds: number;
  /** Only with the operator token. Never holds an address or an error text: those are in the server log. */
  details?: { database: { status: 'up' | 'down'; embedded: boolean; latencyMs: number } };
}
