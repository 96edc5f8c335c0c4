import { defaultServer } from './analyze';

describe('the platform the CLI talks to', () => {
  it('is DDNN_SERVER, else the local API on PORT (3000 when unset), as npm start serves it', () => {
    expect(defaultServer({ DDNN_SERVER: 'http://api.example:8080', PORT: '4000' })).toBe('http://api.example:8080');
    expect(defaultServer({ PORT: '4321' })).toBe('http://localhost:4321');
    expect(defaultServer({})).toBe('http://localhost:3000');
    expect(defaultServer({ PORT: 'not-a-port' })).toBe('http://localhost:3000');
  });
});
