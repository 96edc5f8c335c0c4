import sharp from 'sharp';
import { DeviceAgent } from './agent';
import { parseOptions } from './options';

describe('DeviceAgent.pushFrame (the embedded integrator call)', () => {
  const options = (extra: Record<string, string>) => parseOptions({ server: 'http://127.0.0.1:9', name: 'cam-0', view: '0', ...extra }, '/tmp');

  it('hands frames to a push source and refuses undecodable ones', async () => {
    const agent = new DeviceAgent(options({ source: 'push', pushPort: '1' }));
    const png = await sharp(Buffer.alloc(4 * 4 * 3, 7), { raw: { width: 4, height: 4, channels: 3 } }).png().toBuffer();
    await expect(agent.pushFrame(png, Date.now() - 10)).resolves.toBeUndefined();
    await expect(agent.pushFrame(Buffer.from('nope'))).rejects.toThrow();
    agent.stop();
  });

  it('names the source when the agent is not on push', async () => {
    const agent = new DeviceAgent(options({ data: 'd' }));
    await expect(agent.pushFrame(Buffer.alloc(1))).rejects.toThrow("pushFrame needs --source push (this agent's source is dataset)");
    agent.stop();
  });
});
