/** GET /api/health */
export interface HealthResponse {
  status: 'ok' | 'degraded';
  version: string;
  uptimeSeconds: number;
  database: { status: 'up' | 'down'; embedded: boolean; latencyMs: number; error?: string };
}
