import { Client } from 'pg';
import { createTestDatabase } from './test-database';

describe('createTestDatabase', () => {
  it('creates an empty database that can be written and then dropped', async () => {
    const db = await createTestDatabase();
    const client = new Client({ connectionString: db.url });
    await client.connect();
    await client.query('CREATE TABLE t (x int)');
    await client.query('INSERT INTO t VALUES (42)');
    const { rows } = await client.query('SELECT x FROM t');
    expect(rows).toEqual([{ x: 42 }]);
    await client.end();
    await db.drop();

    const other = await createTestDatabase();
    expect(other.name).not.toEqual(db.name);
    const probe = new Client({ connectionString: db.url });
    await expect(probe.connect()).rejects.toThrow(/does not exist/);
    await other.drop();
  });
});
