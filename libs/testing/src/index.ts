export * from './test-database';
export * from './checkpoints';
