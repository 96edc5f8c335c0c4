import { buildProgram } from './program';

describe('ddnn program', () => {
  it('names itself and rejects an unknown command with a clear error', async () => {
    const program = buildProgram().exitOverride().configureOutput({ writeErr: () => undefined });
    expect(program.name()).toBe('ddnn');
    await expect(program.parseAsync(['node', 'ddnn', 'no-such-command'])).rejects.toThrow(/unknown command/);
  });
});
