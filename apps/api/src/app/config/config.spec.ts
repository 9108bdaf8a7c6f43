import { loadConfig } from './config';

describe('loadConfig: vault keys', () => {
  const key = 'ab'.repeat(32);

  it('takes DRYDOCK_SECRET_KEY_PREVIOUS beside the current key, and none by default', () => {
    expect(loadConfig({ DRYDOCK_SECRET_KEY: key, DRYDOCK_SECRET_KEY_PREVIOUS: 'cd'.repeat(32) })).toMatchObject({ secretKey: key, secretKeyPrevious: 'cd'.repeat(32) });
    expect(loadConfig({}).secretKeyPrevious).toBeNull();
  });

  it.each(['DRYDOCK_SECRET_KEY', 'DRYDOCK_SECRET_KEY_PREVIOUS'])('refuses %s that is not 64 hex characters at boot, without echoing it', (name) => {
    const bad = `${'zz'.repeat(31)}secret`;
    expect(() => loadConfig({ [name]: bad })).toThrow(`${name}: expected 64 hex characters`);
    try {
      loadConfig({ [name]: bad });
    } catch (error) {
      expect((error as Error).message).not.toContain('secret');
    }
  });
});
