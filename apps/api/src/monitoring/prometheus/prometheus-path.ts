import type { NextFunction, Request, Response } from 'express';

/** Where the Prometheus controller is routed under the global prefix. */
export const PROMETHEUS_ROUTE = 'prometheus';

/**
 * Serves GET /metrics, where Prometheus looks by default, with the /api/prometheus route. An exclusion from the
 * global prefix cannot do it: Nest matches exclusions against route paths, and `metrics` is also the controller
 * path of the metrics series (GET /api/metrics), which the exclusion would move to /metrics as well.
 */
export function prometheusPathAlias(req: Request, _res: Response, next: NextFunction): void {
  const q = req.url.indexOf('?');
  if ((q < 0 ? req.url : req.url.slice(0, q)) === '/metrics') req.url = `/api/${PROMETHEUS_ROUTE}${q < 0 ? '' : req.url.slice(q)}`;
  next();
}
