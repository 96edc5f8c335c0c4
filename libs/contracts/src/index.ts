export * from './events/catalogue';
export * from './api/health';
export * from './socket/devices';
export * from './analysis';
