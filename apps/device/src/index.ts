// The agent as a library, for integrators who embed it: `new DeviceAgent(parseOptions({...}))`, then
// `agent.pushFrame(pngOrRawPixels, capturedAt)` on --source push.
export { DeviceAgent } from './agent';
export { OptionsError, parseOptions, type AgentOptions, type SourceOptions } from './options';
export { decodeFrame, FfmpegSource, FolderSource, PushSource, type FrameInput, type RawFrame } from './sources';
