import { ErrorCode } from './errors';
import { checkDockerfile, MAX_LAYERS } from './dockerfile';

describe('checkDockerfile', () => {
  it('summarises the seed\'s Dockerfile: steps, layers and the base image', () => {
    const summary = checkDockerfile(
      ['# This is a comment', 'FROM ubuntu:14.04', 'MAINTAINER Kate Smith <ksmith@example.com>', 'RUN apt-get update && apt-get install -y ruby ruby-dev', 'RUN gem install sinatra'].join('\n'),
    );
    expect(summary).toEqual({ steps: 4, layers: 2, baseImages: ['ubuntu'], stages: ['#0'] });
  });

  it('substitutes ARGs before FROM, build args first', () => {
    const text = 'ARG BASE=localhost:5002/team/base:1\nFROM ${BASE}\nRUN true';
    expect(checkDockerfile(text).baseImages).toEqual(['localhost:5002/team/base']);
    expect(checkDockerfile(text, { BASE: 'localhost:5001/other' }).baseImages).toEqual(['localhost:5001/other']);
  });

  it('does not count stage names or scratch as images to pull', () => {
    const text = 'FROM localhost:5001/b:1 AS build\nRUN make\nFROM scratch\nCOPY --from=build /out /out\nFROM build AS test\nRUN true';
    expect(checkDockerfile(text).baseImages).toEqual(['localhost:5001/b']);
  });

  it.each([
    ['', 'empty'],
    ['# only a comment\n', 'no FROM'],
    ['RUN echo hi', 'RUN before the first FROM'],
    ['FROM busybox\nFROBNICATE x', 'line 2: unknown instruction FROBNICATE'],
    ['FROM Busybox', 'line 1: invalid reference'],
    ['FROM busybox\nRUN true', 'target stage "nope"'],
  ])('refuses %j (%s)', (text, message) => {
    const check = () => checkDockerfile(text, {}, message.startsWith('target') ? 'nope' : undefined);
    expect(check).toThrow(expect.objectContaining({ code: ErrorCode.DOCKERFILE_INVALID }));
    expect(check).toThrow(message);
  });

  it(`refuses an image of more than ${MAX_LAYERS} layers before building`, () => {
    const ok = ['FROM busybox', ...Array.from({ length: MAX_LAYERS }, (_, i) => `RUN echo ${i} > /f${i}`)].join('\n');
    expect(checkDockerfile(ok).layers).toBe(MAX_LAYERS);
    expect(() => checkDockerfile(`${ok}\nRUN true`)).toThrow(`${MAX_LAYERS + 1} layers`);
  });

  it('counts only the final stage\'s layers', () => {
    const many = Array.from({ length: 130 }, (_, i) => `RUN echo ${i}`).join('\n');
    expect(checkDockerfile(`FROM busybox AS a\n${many}\nFROM busybox\nCOPY --from=a /x /x`).layers).toBe(1);
  });
});
