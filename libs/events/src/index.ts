// Append-only event store on Postgres and its projections.
export * from './batching-writer';
export * from './checkpoint';
export * from './errors';
export * from './event-store';
export * from './migrate';
export * from './upcasting';
