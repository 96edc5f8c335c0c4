import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('applies defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ PORT: 3000, HOST: 'localhost', LOG_LEVEL: 'log' });
    expect(c.LOG_FORMAT).toBeUndefined();
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.DDNN_DATA_DIR).toMatch(/\.data$/);
  });

  it('treats empty variables as unset and coerces numbers', () => {
    const c = loadConfig({ PORT: '8080', DATABASE_URL: '' });
    expect(c.PORT).toBe(8080);
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it('names every bad variable and its value', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: '70000', LOG_FORMAT: 'xml', REDIS_URL: 'http://x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/PORT="70000"/);
    expect(message).toMatch(/LOG_FORMAT="xml"/);
    expect(message).toMatch(/REDIS_URL="http:\/\/x": must be a redis:\/\/ URL/);
  });
});
