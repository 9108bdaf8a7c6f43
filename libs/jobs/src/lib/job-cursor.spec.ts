import { ErrorCode } from '@drydock/core';
import { decodeJobCursor, encodeJobCursor } from './job-cursor';

describe('job cursors', () => {
  it('reads back the place it was made from, and shows no raw time or id', () => {
    const place = { createdAtMs: 1_767_225_600_123, id: '0f8e6a52-5b7c-4d1e-9a3f-2b6c8d0e1f24' };
    const cursor = encodeJobCursor(place);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain(place.id);
    expect(decodeJobCursor(cursor)).toEqual(place);
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'abc+/=='],
    ['no separator', Buffer.from('1767225600123').toString('base64url')],
    ['a time that is not digits', Buffer.from('-5:abc').toString('base64url')],
    ['a time past what a Date holds', Buffer.from('9999999999999999:abc').toString('base64url')],
    ['an id with a space', Buffer.from('1:a b').toString('base64url')],
    ['non-canonical base64url', `${Buffer.from('1:abc').toString('base64url')}A`],
    ['too long', 'A'.repeat(300)],
    ['null', null],
  ])('refuses a cursor that is %s as VALIDATION_FAILED', (_, cursor) => {
    expect(() => decodeJobCursor(cursor)).toThrow(expect.objectContaining({ code: ErrorCode.VALIDATION_FAILED }));
  });
});
