import type { HostileCase } from '../harness';
import { builds } from './builds';
import { output } from './output';
import { patterns } from './patterns';
import { sockets } from './sockets';
import { tenancy } from './tenancy';
import { uploads } from './uploads';

/** Every family of the corpus, in the order they run. Add a case for every defect found. */
export const corpus: Record<string, HostileCase[]> = {
  'uploads cut short, too large or malformed': uploads,
  'patterns that make a matcher backtrack': patterns,
  'output floods and readers that never read': output,
  'websocket messages before and after authentication': sockets,
  'tenants reaching into each other': tenancy,
  'build steps pushing at their fence': builds,
};
