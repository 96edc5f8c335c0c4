// Append-only event store on Postgres, its subscriptions and its projections.
export * from './append-retry';
export * from './batching-writer';
export * from './checkpoint';
export * from './csv';
export * from './database-errors';
export * from './errors';
export * from './event-id';
export * from './event-store';
export * from './migrate';
export * from './partitions';
export * from './pool';
export * from './projections';
export * from './retention';
export * from './run-deletion';
export * from './subscription';
export * from './upcasting';
