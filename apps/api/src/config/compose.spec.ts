import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from './config';

const dockerDir = path.resolve(__dirname, '..', '..', '..', '..', 'docker');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** A compose file as `docker compose` reads it: YAML with merge keys, `${VAR:?message}` filled from `vars`. */
function readCompose(file: string, vars: Record<string, string> = {}): Compose {
  const text = fs.readFileSync(path.join(dockerDir, file), 'utf8').replace(/\$\{(\w+)(?::[?-][^}]*)?\}/g, (_, name: string) => {
    if (!(name in vars)) throw new Error(`${file} uses \${${name}} that the test does not set`);
    return vars[name];
  });
  return parse(text, { merge: true }) as Compose;
}

describe('docker compose files', () => {
  it('the single-node file: the platform on PostgreSQL, its environment accepted by the API', () => {
    const c = readCompose('compose.yml');
    expect(Object.keys(c.services).sort()).toEqual(['platform', 'postgres']);
    expect(() => loadConfig(c.services.platform.environment)).not.toThrow();
    expect(fs.existsSync(path.join(dockerDir, path.basename(c.services.platform.build!.dockerfile)))).toBe(true);
  });

  it('the cluster file: two nodes on one PostgreSQL and one Redis behind nginx, each environment valid', () => {
    const token = 'a-cluster-operator-token';
    const c = readCompose('compose.cluster.yml', { DDNN_ADMIN_TOKEN: token });
    expect(Object.keys(c.services).sort()).toEqual(['lb', 'platform-a', 'platform-b', 'postgres', 'redis']);
    const nodes = ['platform-a', 'platform-b'].map((name) => ({ name, service: c.services[name], config: loadConfig(c.services[name].environment) }));
    for (const { name, service, config } of nodes) {
      // Every variable set is one the API knows (a misspelt one would be silently ignored).
      for (const key of Object.keys(service.environment ?? {})) expect(`${name}: ${key} ${key in config}`).toBe(`${name}: ${key} true`);
      expect(config).toMatchObject({ DATABASE_URL: 'postgres://ddnn:ddnn@postgres:5432/ddnn', REDIS_URL: 'redis://redis:6379', DDNN_ADMIN_TOKEN: token, DDNN_NODE_ID: name });
      expect(service.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
      // One data folder: a session resumed on the other node finds its dataset there.
      expect(service.volumes).toEqual(['ddnn-data:/data']);
      expect(service.ports).toBeUndefined();
    }
    expect(new Set(nodes.map((n) => n.config.DDNN_REDIS_PREFIX)).size).toBe(1);
    expect(nodes.filter((n) => n.config.DDNN_DEMO).map((n) => n.name)).toEqual(['platform-a']);

    const lb = c.services.lb;
    expect(lb.ports).toEqual(['3000:80']);
    const conf = fs.readFileSync(path.join(dockerDir, lb.volumes![0].split(':')[0]), 'utf8');
    expect(conf).toMatch(/server platform-a:3000/);
    expect(conf).toMatch(/server platform-b:3000/);
    expect(conf).toMatch(/proxy_set_header Upgrade \$http_upgrade/);
  });

  it('the cluster file refuses to start without an operator token shared by both nodes', () => {
    expect(fs.readFileSync(path.join(dockerDir, 'compose.cluster.yml'), 'utf8')).toMatch(/DDNN_ADMIN_TOKEN: \$\{DDNN_ADMIN_TOKEN:\?[^}]+\}/);
  });
});
