export * from './device-status';
export * from './projections';
export * from './session-summary';
export * from './metrics-rollup';
export * from './metrics-rollup-fold';
export * from './metric-series';
