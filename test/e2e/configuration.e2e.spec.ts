import { apiMain, startNode } from '@ddnn/testing';

/**
 * A refused configuration ends the API with exit code 2 and one message naming each bad variable (README
 * "Configuration"), never a stack trace and never a credential: an operator pastes that output into tickets.
 */
describe('the API refusing its configuration', () => {
  it.each([
    ['a password in a URL of the wrong scheme', { DATABASE_URL: 'mysql://app:s3cret-pw@db/ddnn' }, /DATABASE_URL="mysql:\/\/app:\[redacted\]@db\/ddnn": must be a postgres:\/\/ URL/],
    ['a URL its driver cannot parse', { DATABASE_URL: 'postgres://app:s3cret-pw@db:notaport/ddnn' }, /DATABASE_URL="postgres:\/\/app:\[redacted\]@db:notaport\/ddnn": is not a valid URL/],
    ['a Redis password', { REDIS_URL: 'http://:s3cret-pw@cache:6379' }, /REDIS_URL="http:\/\/:\[redacted\]@cache:6379": must be a redis:\/\/ URL/],
    ['an operator token too short', { DDNN_ADMIN_TOKEN: 's3cret-pw' }, /DDNN_ADMIN_TOKEN=\(hidden, 9 characters\): must be at least 16 characters/],
  ])('%s: exit 2, the variable named, the secret not shown', async (_what, env, message) => {
    const api = startNode(apiMain, [], { ...env, PORT: '1', DDNN_DEMO: 'false' });
    const code = await api.exited;
    expect(code).toBe(2);
    expect(api.output()).toMatch(message);
    expect(api.output()).not.toContain('s3cret-pw');
    expect(api.output()).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });
});
