export * from './events/catalogue';
export * from './api/health';
