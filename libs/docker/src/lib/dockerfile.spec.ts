import { ErrorCode } from '@drydock/core';
import { checkDockerfile, MAX_LAYERS } from './dockerfile';

describe('checkDockerfile', () => {
  it('summarises the seed\'s Dockerfile: steps, layers and the base image', () => {
    const summary = checkDockerfile(
      ['# This is a comment', 'FROM ubuntu:14.04', 'MAINTAINER Kate Smith <ksmith@example.com>', 'RUN apt-get update && apt-get install -y ruby ruby-dev', 'RUN gem install sinatra'].join('\n'),
    );
    expect(summary).toEqual({ steps: 4, layers: 2, baseImages: ['ubuntu'], copyFromImages: [], images: ['ubuntu:14.04'], stages: ['#0'] });
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

  it('lists the images COPY --from and RUN --mount=from read, but not stages or stage indexes', () => {
    const text = [
      'ARG SRC=localhost:5001/team-b/secret:1',
      'FROM localhost:5001/team-a/base:1 AS build',
      'ARG TOOL=localhost:5001/team-c/tool',
      'COPY --from=${TOOL} /bin/tool /bin/tool',
      'FROM busybox',
      'COPY --from=build /out /out',
      'COPY --from=0 /out /out0',
      'COPY --chown=1:1 --from=localhost:5001/team-b/data@sha256:' + 'a'.repeat(64) + ' /d /d',
      'RUN --mount=type=bind,from=localhost:5001/team-d/cache,target=/c true',
    ].join('\n');
    const summary = checkDockerfile(text);
    expect(summary.baseImages).toEqual(['localhost:5001/team-a/base', 'busybox']);
    expect(summary.copyFromImages).toEqual(['localhost:5001/team-c/tool', 'localhost:5001/team-b/data', 'localhost:5001/team-d/cache']);
    expect(summary.images).toEqual([
      'localhost:5001/team-a/base:1',
      'localhost:5001/team-c/tool:latest',
      'busybox:latest',
      `localhost:5001/team-b/data@sha256:${'a'.repeat(64)}`,
      'localhost:5001/team-d/cache:latest',
    ]);
  });

  it('substitutes build args in COPY --from, as in FROM', () => {
    const text = 'FROM busybox\nARG SRC=busybox\nCOPY --from=${SRC} /a /a';
    expect(checkDockerfile(text, { SRC: 'localhost:5001/team-b/x:2' }).images).toEqual(['busybox:latest', 'localhost:5001/team-b/x:2']);
  });

  it('refuses a COPY --from that is neither a stage nor a valid reference', () => {
    expect(() => checkDockerfile('FROM busybox\nCOPY --from=Not_A/Ref /a /a')).toThrow(expect.objectContaining({ code: ErrorCode.DOCKERFILE_INVALID }));
    expect(() => checkDockerfile('FROM busybox\nCOPY --from=$NOTHING /a /a')).toThrow(/--from names no stage or image/);
  });
});
