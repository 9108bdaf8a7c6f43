import { DrydockError, ErrorCode } from '@drydock/core';
import { type DockerEngine } from '@drydock/docker';
import { NamespacePolicy } from '../auth/namespace.policy';
import type { Principal } from '../auth/principal';
import { checkSourceImages } from './source-images';

const builderA = { name: 'builder-a', team: 'team-a', role: 'builder', namespaces: ['localhost:5001/team-a/**'] } as unknown as Principal;

/** An engine holding `local` images: inspect answers them and IMAGE_NOT_FOUND for the rest. */
function engineWith(...local: string[]): DockerEngine {
  return {
    images: {
      inspect: async (ref: string) => {
        if (local.includes(ref)) return { id: 'sha256:x' };
        throw new DrydockError(ErrorCode.IMAGE_NOT_FOUND, `no such image ${ref}`);
      },
    },
  } as unknown as DockerEngine;
}

describe('checkSourceImages', () => {
  const policy = new NamespacePolicy();

  it("refuses an absent image of another team's namespace: the build would pull it", async () => {
    await expect(checkSourceImages(builderA, ['localhost:5001/team-b/base:1'], false, policy, engineWith())).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
      message: expect.stringContaining('localhost:5001/team-b/base:1'),
    });
  });

  it('lets a local image outside the namespaces be read, and answers it as one that must stay local', async () => {
    const engine = engineWith('busybox:latest');
    await expect(checkSourceImages(builderA, ['busybox:latest', 'localhost:5001/team-a/x:1'], false, policy, engine)).resolves.toEqual(['busybox:latest']);
  });

  it('refuses pull of a local image outside the namespaces: pull fetches it anew', async () => {
    await expect(checkSourceImages(builderA, ['busybox:latest'], true, policy, engineWith('busybox:latest'))).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });
  });

  it('lets the team pull its own images, present or not', async () => {
    await expect(checkSourceImages(builderA, ['localhost:5001/team-a/x:1'], true, policy, engineWith())).resolves.toEqual([]);
  });
});
