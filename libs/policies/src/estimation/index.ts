export * from './cbpe';
export * from './drift';
export * from './histogram';
export * from './strata';
export * from './stratified-estimate';
