import type { ImageLayer } from '@drydock/docker';
import { redactBuildArgs, redactHistory } from './history-redaction';

describe('redactBuildArgs', () => {
  it.each([
    ['|1 TOKEN=s3cret /bin/sh -c echo hi', '|1 TOKEN=<redacted> /bin/sh -c echo hi'],
    ['|2 A=1 B=two /bin/sh -c make', '|2 A=<redacted> B=<redacted> /bin/sh -c make'],
    ['|2 A=has space B=x=y /bin/sh -c make', '|2 A=<redacted> B=<redacted> /bin/sh -c make'],
    ['RUN |1 TOKEN=s3cret /bin/sh -c echo hi # buildkit', 'RUN |1 TOKEN=<redacted> /bin/sh -c echo hi # buildkit'],
    ['|1 TOKEN=s3cret echo hi', '|1 TOKEN=<redacted> echo hi'],
    ['|1 TOKEN=', '|1 TOKEN=<redacted>'],
    ['/bin/sh -c #(nop)  ARG TOKEN=default', '/bin/sh -c #(nop)  ARG TOKEN=<redacted>'],
    ['ARG A=1 B="two words"', 'ARG A=<redacted> B=<redacted>'],
    ['/bin/sh -c #(nop)  ARG TOKEN', '/bin/sh -c #(nop)  ARG TOKEN'],
    ['/bin/sh -c echo TOKEN=not-an-arg', '/bin/sh -c echo TOKEN=not-an-arg'],
  ])('turns %j into %j', (createdBy, redacted) => {
    expect(redactBuildArgs(createdBy)).toBe(redacted);
  });
});

describe('redactHistory', () => {
  const layer = (createdBy: string, tags: string[] = []): ImageLayer => ({ id: '<missing>', created: '', createdBy, size: 0, comment: '', tags });
  const history = [
    layer('|1 CHILD=c /bin/sh -c true', ['team-b/child:1']),
    layer('|1 BASE=b /bin/sh -c true', ['team-a/base:1']),
    layer('/bin/sh -c #(nop) ADD file:x in /'),
  ];
  const teamB = (names: string[]) => names.every((name) => name.startsWith('team-b/'));

  it("shows the values of the caller's own steps and hides those of a base image it does not own", () => {
    expect(redactHistory(history, ['team-b/child:1'], teamB).map((l) => l.createdBy)).toEqual([
      '|1 CHILD=c /bin/sh -c true',
      '|1 BASE=<redacted> /bin/sh -c true',
      '/bin/sh -c #(nop) ADD file:x in /',
    ]);
  });

  it('hides every value of an image without a name the caller owns', () => {
    expect(redactHistory([layer('|1 A=1 /bin/sh -c x')], [], () => true)[0]?.createdBy).toBe('|1 A=<redacted> /bin/sh -c x');
    expect(redactHistory([layer('|1 A=1 /bin/sh -c x')], ['team-a/x'], teamB)[0]?.createdBy).toBe('|1 A=<redacted> /bin/sh -c x');
  });
});
