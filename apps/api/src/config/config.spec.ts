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

  it('never shows a credential: a password in a URL is redacted, a token hidden', () => {
    const message = (() => {
      try {
        loadConfig({ DATABASE_URL: 'mysql://u:s3cret@h/db', REDIS_URL: 'http://:pw0rd@h:6379', DDNN_ADMIN_TOKEN: 'tooshort-secret' });
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(message).toMatch(/DATABASE_URL="mysql:\/\/u:\[redacted\]@h\/db": must be a postgres:\/\/ URL/);
    expect(message).toMatch(/REDIS_URL=.*must be a redis:\/\/ URL/);
    expect(message).toMatch(/DDNN_ADMIN_TOKEN=\(hidden, 15 characters\): must be at least 16 characters/);
    expect(message).not.toMatch(/s3cret|pw0rd|tooshort/);
  });

  it('refuses a service URL its driver cannot parse, naming the variable', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u:s3cret@h:notaport/db' })).toThrow(/DATABASE_URL="postgres:\/\/u:\[redacted\]@h:notaport\/db": is not a valid URL/);
    expect(() => loadConfig({ REDIS_URL: 'redis://h:99999999' })).toThrow(/REDIS_URL=.*is not a valid URL/);
    // A password with a '/' (base64) makes the URL unparsable, and is exactly what the refusal would print.
    let message = '';
    try {
      loadConfig({ DATABASE_URL: 'postgres://app:ab/cd+ef@db/ddnn' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/DATABASE_URL="postgres:\/\/app:\[redacted\]@db\/ddnn"/);
    expect(message).not.toMatch(/ab\/cd|cd\+ef/);
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p%40ss@h:5432/db' }).DATABASE_URL).toBe('postgres://u:p%40ss@h:5432/db');
  });
});
