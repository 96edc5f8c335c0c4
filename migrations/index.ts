import type { MigrationInterface } from 'typeorm';

/** Every schema migration, oldest first; the API and the tests run them in this order. */
export const migrations: (new () => MigrationInterface)[] = [];
