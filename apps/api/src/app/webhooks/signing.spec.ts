import { Webhook } from 'standardwebhooks';
import { newSecret, signedHeaders } from './signing';

describe('signedHeaders', () => {
  it("signs so that the Standard Webhooks library's verifier accepts the body, and refuses it altered or under another secret", () => {
    const secret = newSecret();
    const body = JSON.stringify({ type: 'job.succeeded', timestamp: new Date().toISOString(), data: { job: { id: 'j1' } } });
    const headers = signedHeaders(secret, 'msg_1', new Date(), body);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toMatchObject({ type: 'job.succeeded' });
    expect(() => new Webhook(secret).verify(body.replace('j1', 'j2'), headers)).toThrow();
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow();
  });

  it('stamps each attempt with its own time, so a retry a day later is inside the receiver\'s replay window', () => {
    const secret = newSecret();
    const dayAgo = new Date(Date.now() - 24 * 3600 * 1000);
    expect(() => new Webhook(secret).verify('{}', signedHeaders(secret, 'msg_1', dayAgo, '{}'))).toThrow(/timestamp/i);
    expect(signedHeaders(secret, 'msg_1', new Date(1_700_000_000_000), '{}')['webhook-timestamp']).toBe('1700000000');
  });

  it('makes a different 32-byte secret every time', () => {
    const a = newSecret();
    expect(Buffer.from(a.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(newSecret()).not.toBe(a);
  });
});
