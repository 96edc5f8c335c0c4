import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { MAX_STREAM_RATE, MIN_RUN_RATE } from '@ddnn/contracts';
import { CreateSessionDto } from './session.dto';

const body = {
  modelId: 'default',
  dataset: 'synth',
  split: 'test',
  mode: 'production',
  topology: { devices: [{ deviceId: '0193a5a0-0000-7000-8000-000000000001', view: 0 }] },
  policy: { kind: 'entropy', thresholds: { local: 0.8 } },
  deadlineMs: 1000,
};

async function problems(over: Record<string, unknown>): Promise<string[]> {
  const errors = await validate(plainToInstance(CreateSessionDto, { ...body, ...over }), { whitelist: true, forbidNonWhitelisted: true });
  return errors.map((e) => e.property);
}

describe('CreateSessionDto bounds', () => {
  it('takes a rate and a limit within the bounds a run can keep', async () => {
    expect(await problems({})).toEqual([]);
    expect(await problems({ rate: MIN_RUN_RATE, limit: 1 })).toEqual([]);
    expect(await problems({ rate: MAX_STREAM_RATE, limit: 2_147_483_647 })).toEqual([]);
  });

  it.each([
    // A session at 1e-300 samples/s held one of a node's DDNN_MAX_SESSIONS slots doing nothing until stopped.
    [{ rate: 1e-300 }, 'rate'],
    [{ rate: MAX_STREAM_RATE + 1 }, 'rate'],
    [{ rate: Number.POSITIVE_INFINITY }, 'rate'],
    [{ limit: 1e15 }, 'limit'],
  ])('refuses %j', async (over, field) => {
    expect(await problems(over)).toEqual([field]);
  });
});
