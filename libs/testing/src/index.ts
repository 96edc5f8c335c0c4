export * from './test-database';
export * from './checkpoints';
export * from './ports';
export * from './polling';
export * from './processes';
export * from './platform';
export * from './failover-proxy';
export * from './http-receiver';
