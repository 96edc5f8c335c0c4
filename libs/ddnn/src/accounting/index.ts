// Byte and memory accounting: exact message sizes, per-sample communication, device memory.
export * from './messages';
export * from './memory';
