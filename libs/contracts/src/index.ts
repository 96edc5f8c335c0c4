export * from './events/catalogue';
export * from './api/health';
export * from './socket/devices';
export * from './api/sessions';
export * from './socket/live';
export * from './analysis';
