export const DATABASE_RUNTIME = Symbol('DATABASE_RUNTIME');

/** Where the database is and whether this process owns it (embedded). */
export interface DatabaseRuntime {
  url: string;
  embedded: boolean;
}
