import { capLine, LineAssembler, MAX_LINE_BYTES, TRUNCATED_MARK, utf8Prefix } from './lines';

function assemble(chunks: Buffer[], max?: number): string[] {
  const assembler = new LineAssembler(max);
  const out: string[] = [];
  for (const chunk of chunks) out.push(...assembler.push(chunk));
  out.push(...assembler.end());
  return out;
}

describe('the line cap', () => {
  it('joins lines cut across chunks and keeps a character split between them whole', () => {
    const bytes = Buffer.from('grüße\nwelt\r\nend');
    const at = bytes.indexOf(0xc3) + 1;
    expect(assemble([bytes.subarray(0, at), bytes.subarray(at)])).toEqual(['grüße', 'welt', 'end']);
  });

  it('cuts a line past the cap to the cap, marked, and drops its rest up to the newline', () => {
    const out = assemble([Buffer.from('a'.repeat(30)), Buffer.from('a'.repeat(30)), Buffer.from('aaa\nok\n')], 40);
    expect(out).toEqual([`${'a'.repeat(40 - TRUNCATED_MARK.length)}${TRUNCATED_MARK}`, 'ok']);
  });

  it('cuts a long line that arrives whole in one chunk', () => {
    const out = assemble([Buffer.from(`${'b'.repeat(100)}\nshort\n`)], 40);
    expect(out.map((line) => Buffer.byteLength(line))).toEqual([40, 5]);
  });

  it('never cuts inside a UTF-8 character', () => {
    const euros = Buffer.from('€'.repeat(20));
    expect(utf8Prefix(euros, 10).toString()).toBe('€€€');
    const [line] = assemble([euros], 10 + TRUNCATED_MARK.length);
    expect(line).toBe(`€€€${TRUNCATED_MARK}`);
  });

  it('capLine leaves a line within the cap alone and bounds any other to the cap', () => {
    expect(capLine('hello')).toBe('hello');
    const capped = capLine('z'.repeat(MAX_LINE_BYTES + 1));
    expect(Buffer.byteLength(capped)).toBe(MAX_LINE_BYTES);
    expect(capped.endsWith(TRUNCATED_MARK)).toBe(true);
  });
});
