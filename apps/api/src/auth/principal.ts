/** Who made a request: the operator, or one device acting as itself. */
export type Principal = { kind: 'operator' } | { kind: 'device'; deviceId: string };

