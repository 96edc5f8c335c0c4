// Append-only event store on Postgres and its projections.
