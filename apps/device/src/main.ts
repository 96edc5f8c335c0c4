import { Command, Option } from 'commander';
import { DeviceAgent } from './agent';
import { bindLogFields, log } from './log';
import { OptionsError, parseOptions } from './options';

const program = new Command('ddnn-device')
  .description('A DDNN end device (or edge node): provisions, connects to the server and serves its model section.')
  .requiredOption('--server <url>', 'platform URL, e.g. http://localhost:3000')
  // From the environment too: a command line is visible to every local user (ps), an environment is not.
  .addOption(new Option('--profile-key <key>', "the device profile's provisioning key (needed until a token is saved)").env('DDNN_PROFILE_KEY'))
  .addOption(new Option('--token <token>', 'a token an operator issued for this device (POST /api/devices/<id>/rotate-token): replaces the saved one').env('DDNN_DEVICE_TOKEN'))
  .requiredOption('--name <name>', 'device name, e.g. cam-3')
  .option('--view <n>', 'camera view this device serves (end devices)')
  .option('--data <dir>', 'folder holding the datasets (or one dataset) this device reads its view from')
  .option('--role <role>', 'end-device or edge', 'end-device')
  .option('--state <file>', 'where the device token is saved (default .data/devices/<name>.json)')
  .option('--heartbeat-ms <ms>', 'heartbeat interval', '5000')
  .option('--fault <kind>', 'fault drills only: garbage (malformed and implausible replies) or crash-at:<n> (SIGKILL itself at the nth infer)')
  .option('--source <kind>', 'where frames come from: dataset (replay --data), folder, push or ffmpeg', 'dataset')
  .option('--source-path <path>', 'folder: the folder a camera writes frames into; ffmpeg: a video file')
  .option('--source-url <url>', 'ffmpeg: a stream URL (rtsp://, http://, ...)')
  .option('--max-frame-age-ms <ms>', 'folder, push, ffmpeg: a newest frame older than this is a skipped capture (default 500, the server\'s default capture tolerance: keep it at most DDNN_CAPTURE_TOLERANCE_MS)')
  .option('--fps <n>', 'ffmpeg: frames per second to decode (default 5)')
  .option('--push-port <port>', 'push: port of the frame endpoint on 127.0.0.1')
  .option('--ffmpeg-path <file>', 'ffmpeg: the ffmpeg binary (default /usr/bin/ffmpeg)')
  .showHelpAfterError();

async function main(): Promise<void> {
  program.parse();
  let agent: DeviceAgent;
  try {
    const options = parseOptions(program.opts());
    bindLogFields({ device: options.name, role: options.role });
    agent = new DeviceAgent(options);
  } catch (e) {
    if (e instanceof OptionsError) {
      process.stderr.write(`ddnn-device: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('info', `${signal}: disconnecting`);
    agent.stop();
    // Let the close frame go out, then leave with the exit code already set.
    setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await agent.start();
}

main().catch((e: unknown) => {
  log('error', e instanceof Error ? e.message : String(e));
  process.exit(1);
});
