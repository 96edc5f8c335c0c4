import { preferredBackend } from './backend';

describe('backend selection', () => {
  it('follows DDNN_BACKEND and rejects unknown names', () => {
    expect(preferredBackend({ DDNN_BACKEND: 'cpu' })).toBe('cpu');
    expect(preferredBackend({ DDNN_BACKEND: 'tensorflow' })).toBe('tensorflow');
    expect(() => preferredBackend({ DDNN_BACKEND: 'webgpu' })).toThrow(/DDNN_BACKEND must be one of wasm, cpu, tensorflow/);
  });

  it('defaults to wasm when @tensorflow/tfjs-node is not installed', () => {
    expect(() => require.resolve('@tensorflow/tfjs-node')).toThrow();
    expect(preferredBackend({})).toBe('wasm');
  });

  it('initialises once however many runs ask at the same time (two streams resuming together failed with "failed to initialise")', async () => {
    await jest.isolateModulesAsync(async () => {
      const { ensureBackend } = await import('./backend');
      await expect(Promise.all([ensureBackend(), ensureBackend(), ensureBackend()])).resolves.toEqual(['wasm', 'wasm', 'wasm']);
      await expect(ensureBackend()).resolves.toBe('wasm');
    });
  });
});
