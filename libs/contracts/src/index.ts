export * from './events/catalogue';
