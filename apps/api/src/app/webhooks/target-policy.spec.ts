import { parseRedisUrl } from '@drydock/jobs';
import { ErrorCode } from '@drydock/core';
import { allowListOf } from '../config/webhooks';
import { drydockEndpoints, TargetPolicy, unmapped, type Resolve } from './target-policy';

/** A resolver that answers from a table, and records how often it was asked. */
function table(entries: Record<string, string[]>): Resolve & { asked: string[] } {
  const asked: string[] = [];
  const resolve = (async (host: string) => {
    asked.push(host);
    const found = entries[host];
    if (!found) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  }) as Resolve & { asked: string[] };
  resolve.asked = asked;
  return resolve;
}

const refused = { code: ErrorCode.WEBHOOK_TARGET_REFUSED };

describe('TargetPolicy', () => {
  it('takes public addresses and names that resolve only to public addresses', async () => {
    const policy = new TargetPolicy([], [], table({ 'hooks.example.com': ['93.184.216.34', '2606:2800:220:1::1'] }));
    await expect(policy.check('https://hooks.example.com/drydock')).resolves.toMatchObject({ hostname: 'hooks.example.com', port: 443 });
    await expect(policy.check('http://93.184.216.34:8080/')).resolves.toMatchObject({ port: 8080, addresses: [{ address: '93.184.216.34', family: 4 }] });
  });

  it('refuses loopback, private, link-local (the metadata service), CGNAT, unspecified and IPv6 local addresses unless listed', async () => {
    const policy = new TargetPolicy([], [], table({}));
    for (const url of [
      'http://127.0.0.1/', 'http://127.8.9.10:3000/', 'http://10.1.2.3/', 'http://172.16.0.1/', 'http://172.31.255.255/', 'http://192.168.0.1/',
      'http://169.254.169.254/latest/meta-data/', 'http://100.64.0.1/', 'http://0.0.0.0/', 'http://[::1]/', 'http://[fe80::1]/', 'http://[fd00::1]/',
      'http://[::ffff:127.0.0.1]/', 'http://[::ffff:a9fe:a9fe]/', 'http://224.0.0.1/', 'http://255.255.255.255/',
    ]) {
      await expect(policy.check(url)).rejects.toMatchObject(refused);
    }
    await expect(policy.check('http://172.32.0.1/')).resolves.toBeDefined();
  });

  it('refuses a name when any one of its addresses is refused: DNS cannot smuggle a private address in beside a public one', async () => {
    const resolve = table({ 'rebind.example': ['93.184.216.34', '169.254.169.254'] });
    const policy = new TargetPolicy([], [], resolve);
    await expect(policy.check('http://rebind.example/')).rejects.toMatchObject(refused);
  });

  it('resolves the name on every check, so a name that moves to a refused address is refused at the next delivery', async () => {
    const entries: Record<string, string[]> = { 'moving.example': ['93.184.216.34'] };
    const policy = new TargetPolicy([], [], table(entries));
    await expect(policy.check('http://moving.example/')).resolves.toBeDefined();
    entries['moving.example'] = ['10.0.0.5'];
    await expect(policy.check('http://moving.example/')).rejects.toMatchObject(refused);
  });

  it('reaches listed CIDRs, addresses and names, and nothing next to them', async () => {
    const policy = new TargetPolicy(allowListOf('127.0.0.1/32, 10.20.0.0/16, hooks.internal'), [], table({ 'hooks.internal': ['10.99.0.1'], localhost: ['127.0.0.1'] }));
    await expect(policy.check('http://127.0.0.1:9000/')).resolves.toBeDefined();
    await expect(policy.check('http://localhost:9000/')).resolves.toBeDefined();
    await expect(policy.check('http://10.20.3.4/')).resolves.toBeDefined();
    await expect(policy.check('http://hooks.internal/')).resolves.toBeDefined();
    await expect(policy.check('http://127.0.0.2:9000/')).rejects.toMatchObject(refused);
    await expect(policy.check('http://10.21.0.1/')).rejects.toMatchObject(refused);
  });

  it("refuses the engine's and Redis' own host and port even where their address is listed", async () => {
    const endpoints = drydockEndpoints(['unix:///var/run/docker.sock', 'tcp://127.0.0.1:2375', 'tcp://docker.internal:2376'], parseRedisUrl('redis://127.0.0.1:6391/0'));
    expect(endpoints).toEqual([{ host: '127.0.0.1', port: 2375 }, { host: 'docker.internal', port: 2376 }, { host: '127.0.0.1', port: 6391 }]);
    const policy = new TargetPolicy(allowListOf('127.0.0.0/8,10.0.0.0/8'), endpoints, table({ 'docker.internal': ['10.0.0.7'], 'alias.internal': ['10.0.0.7'] }));
    await expect(policy.check('http://127.0.0.1:2375/containers/json')).rejects.toMatchObject(refused);
    await expect(policy.check('http://127.0.0.1:6391/')).rejects.toMatchObject(refused);
    await expect(policy.check('http://alias.internal:2376/')).rejects.toMatchObject(refused);
    await expect(policy.check('http://127.0.0.1:9000/')).resolves.toBeDefined();
  });

  it('refuses what is not an http(s) URL, carries credentials, is over-long, or does not resolve', async () => {
    const policy = new TargetPolicy([], [], table({}));
    for (const url of ['ftp://example.com/', 'file:///etc/passwd', 'relative/path', 'http://user:pw@93.184.216.34/', `http://93.184.216.34/${'a'.repeat(2048)}`, 'http://nowhere.example/']) {
      await expect(policy.check(url)).rejects.toMatchObject(refused);
    }
  });

  it('reads IPv4-mapped IPv6 addresses as the IPv4 address they are', () => {
    expect(unmapped('::ffff:169.254.169.254')).toEqual({ address: '169.254.169.254', family: 4 });
    expect(unmapped('::FFFF:a9fe:a9fe')).toEqual({ address: '169.254.169.254', family: 4 });
    expect(unmapped('2001:db8::1')).toEqual({ address: '2001:db8::1', family: 6 });
  });

  it('refuses an allowlist entry that is neither a CIDR, an address nor a host name', () => {
    for (const raw of ['10.0.0.0/33', '::1/129', 'http://x', '10.0.0.0/8/8', 'bad_host']) {
      expect(() => allowListOf(raw)).toThrow(expect.objectContaining({ code: ErrorCode.VALIDATION_FAILED }));
    }
  });
});
