import type { Request } from 'express';

/** Who made a request: the operator, or one device acting as itself. */
export type Principal = { kind: 'operator' } | { kind: 'device'; deviceId: string };

/** The principal the AuthGuard attached to a request. */
export function principalOf(req: Request): Principal {
  const p = (req as Request & { principal?: Principal }).principal;
  if (!p) throw new Error('no principal on the request: is the route guarded?');
  return p;
}
