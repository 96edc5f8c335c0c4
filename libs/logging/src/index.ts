// The platform's one logger configuration (pino), shared by the api, the device agent and the cli.
export * from './logger';
export * from './redact';
export * from './nest-logger';
