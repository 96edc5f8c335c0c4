// Device-side handling of the /devices protocol (messages validated by @ddnn/contracts), shared by the device agent and simulated devices.
export * from './device-runtime';
export * from './view-source';
export * from './bindings';
