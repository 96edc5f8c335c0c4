import { deviceMemoryFootprint } from './memory';
import {
  commReduction,
  deviceSampleBytes,
  expectedDeviceBytes,
  modelMessageSizes,
  featureMessageBytes,
  rawViewBytes,
  sampleBytes,
  scoreMessageBytes,
  summarizeCommunication,
} from './messages';

const paperDevice = { classes: 3, filters: 4, pixels: 16 * 16 };

describe('message sizes', () => {
  it('counts scores, packed features and raw views exactly', () => {
    expect(scoreMessageBytes(3)).toBe(12);
    expect(featureMessageBytes(4, 256)).toBe(128);
    expect(featureMessageBytes(1, 256)).toBe(32);
    expect(featureMessageBytes(3, 15)).toBe(6); // 45 bits round up to 6 bytes
    expect(rawViewBytes(32, 32, 3)).toBe(3072);
  });

  it('reproduces the paper: f=4 worst case 140 B per device, 3072 / 140 = 21.9x', () => {
    expect(deviceSampleBytes(paperDevice, false)).toBe(140);
    expect(expectedDeviceBytes(paperDevice, 0)).toBe(140);
    expect(commReduction(rawViewBytes(32, 32, 3), 140)).toBeCloseTo(21.94, 2);
  });

  it('reproduces the paper at T=0.8 (l = 60.82%): about 62 B per device, about 50x', () => {
    const c = expectedDeviceBytes(paperDevice, 0.6082);
    expect(c).toBeCloseTo(62.15, 2);
    expect(commReduction(3072, c)).toBeCloseTo(49.4, 1);
  });

  it('sends only scores for a local exit and nothing from a dead device', () => {
    const six = Array.from({ length: 6 }, () => paperDevice);
    expect(sampleBytes(six, true)).toBe(72);
    expect(sampleBytes(six, false)).toBe(840);
    expect(sampleBytes(six, false, [true, false, true, true, false, true])).toBe(560);
    expect(() => sampleBytes(six, false, [true])).toThrow(/1 entries for 6 devices/);
  });

  it('summarizes a set of exit decisions against raw offload of the alive devices', () => {
    const six = Array.from({ length: 6 }, () => paperDevice);
    const s = summarizeCommunication(six, [true, true, false, true], 3072);
    expect(s.localExitRate).toBe(0.75);
    expect(s.totalBytes).toBe(72 * 3 + 840);
    expect(s.bytesPerSample).toBe((72 * 3 + 840) / 4);
    expect(s.rawBytesPerSample).toBe(6 * 3072);
    expect(s.commReduction).toBeCloseTo((6 * 3072) / 264, 10);
    const dead = summarizeCommunication(six, [false], 3072, [true, true, true, true, true, false]);
    expect(dead.bytesPerSample).toBe(700);
    expect(dead.rawBytesPerSample).toBe(5 * 3072);
  });

  it('rejects impossible inputs with the name of the problem', () => {
    expect(() => scoreMessageBytes(0)).toThrow(/classes must be a positive integer/);
    expect(() => featureMessageBytes(4, 2.5)).toThrow(/pixels/);
    expect(() => expectedDeviceBytes(paperDevice, 1.5)).toThrow(/local exit rate/);
    expect(() => summarizeCommunication([paperDevice], [], 3072)).toThrow(/no samples/);
  });
});

describe('device memory footprint', () => {
  const shape = (f: number) => ({ height: 32, width: 32, channels: 3, filters: [f], classes: 3 });

  it('counts binary weights in bits and BatchNorm as float32', () => {
    const m = deviceMemoryFootprint(shape(4));
    expect(m.convWeightBits).toBe(3 * 3 * 3 * 4);
    expect(m.fcWeightBits).toBe(16 * 16 * 4 * 3);
    expect(m.binaryWeightBytes).toBe(Math.ceil(108 / 8) + 384);
    expect(m.batchNormParams).toBe(4 * (4 + 3));
    expect(m.batchNormBytes).toBe(112);
    expect(m.featureBytes).toBe(128);
    expect(m.activationBytes).toEqual([128]);
    expect(m.scoreBytes).toBe(12);
    // conv row 32x4, ring 3x16x4, packed output 16x16 words, signs 27x4, head stream 32 words (float32/int32).
    // The first block's fast path: 8 packed float64 sums per padded pixel (34 rows x 33 columns, one channel group),
    // one hit word per conv pixel, the up words and flags, three float64 bounds and 9 tap offsets per channel.
    const fastPath = 8 * 8 * 34 * 33 + 4 * 32 * 32 + 4 + 4 + 3 * 8 * 4 + 4 * 4 * 9;
    expect(fastPath).toBe(76_152);
    expect(m.kernelBufferBytes).toBe(4 * (32 * 4 + 3 * 16 * 4 + 16 * 16) + 4 * 27 * 4 + fastPath + 4 * 32);
  });

  it('stays under 2 KB for f <= 8 and not beyond, as the paper says', () => {
    for (const f of [1, 2, 4, 8]) expect(deviceMemoryFootprint(shape(f)).modelAndActivationBytes).toBeLessThan(2048);
    expect(deviceMemoryFootprint(shape(8)).modelAndActivationBytes).toBe(27 + 768 + 176 + 256);
    expect(deviceMemoryFootprint(shape(16)).modelAndActivationBytes).toBeGreaterThan(2048);
  });

  it('follows the map through several blocks', () => {
    const m = deviceMemoryFootprint({ height: 32, width: 32, channels: 3, filters: [4, 8], classes: 3 });
    expect(m.activationBytes).toEqual([128, 64]);
    expect(m.convWeightBits).toBe(9 * 3 * 4 + 9 * 4 * 8);
    expect(m.fcWeightBits).toBe(8 * 8 * 8 * 3);
    expect(() => deviceMemoryFootprint({ ...shape(4), filters: [] })).toThrow(/at least one ConvP block/);
  });
});

describe('modelMessageSizes', () => {
  it('sizes every message of a model from its shapes: 4|C| scores, f*o/8 feature maps, H*W*C raw views', () => {
    expect(modelMessageSizes({ input: [32, 32, 3], classes: 3, deviceFeatures: [8, 8, 4], edgeFeatures: [] })).toEqual({ scoresBytes: 12, featuresBytes: 32, rawBytes: 3072 });
    expect(modelMessageSizes({ input: [32, 32, 3], classes: 2, deviceFeatures: [8, 8, 4], edgeFeatures: [[4, 4, 3]] })).toEqual({
      scoresBytes: 8,
      featuresBytes: 32,
      rawBytes: 3072,
      edgeFeaturesBytes: 6,
    });
  });
});
