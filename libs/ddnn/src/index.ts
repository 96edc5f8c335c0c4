// The DDNN model: binary layers, sections, aggregators, exits, training, byte accounting.
export * from './runtime';
export * from './binary';
export * from './accounting';
