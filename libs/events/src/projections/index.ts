export * from './device-status';
export * from './projections';
export * from './session-summary';
