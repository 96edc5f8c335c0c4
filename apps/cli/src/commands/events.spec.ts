import { checkDatabaseUrl } from './events';

describe('ddnn events: the database URL', () => {
  it('takes a postgres:// URL with a host and refuses anything else without echoing it', () => {
    expect(() => checkDatabaseUrl('postgres://postgres@127.0.0.1:5432/db', 'DATABASE_URL')).not.toThrow();
    expect(() => checkDatabaseUrl('postgresql://u:p@db.example/ddnn', 'DATABASE_URL')).not.toThrow();
    expect(() => checkDatabaseUrl('postgres:///ddnn?host=/var/run/postgresql', 'DATABASE_URL')).not.toThrow();
    // pg read "notaurl" as a connection string and failed with "getaddrinfo ENOTFOUND base".
    for (const bad of ['notaurl', 'mysql://u:s3cret@h/db', 'postgres://', 'postgres:///db']) {
      expect(() => checkDatabaseUrl(bad, 'DATABASE_URL')).toThrow('DATABASE_URL must be a postgres://user@host:port/database URL');
    }
    expect(() => checkDatabaseUrl('mysql://u:s3cret@h/db', '--database-url')).toThrow(/^--database-url must/);
  });
});
