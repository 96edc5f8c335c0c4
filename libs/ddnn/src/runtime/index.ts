// Device-side handling of the /devices protocol, shared by the device agent and simulated devices.
export * from './protocol-schemas';
export * from './device-runtime';
export * from './view-source';
export * from './bindings';
