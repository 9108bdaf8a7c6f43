/**
 * Told of every request to an engine once it has answered (for a stream, once
 * its headers came: the stream's own length is the job's): the operation, one
 * of a fixed set of names, and the seconds it took. A metrics port; this
 * library knows no metrics library.
 */
export type EngineRequestObserver = (operation: string, seconds: number) => void;

/** Actions on one container the adapters use; any other is `container.other`. */
const CONTAINER_ACTIONS = new Set(['json', 'start', 'stop', 'kill', 'wait', 'logs', 'attach', 'archive', 'stats', 'top', 'changes', 'export', 'pause', 'unpause', 'restart', 'resize', 'update', 'rename', 'exec']);

/** Endpoints without a name in their path, by their path. */
const FIXED: Record<string, string> = {
  '/_ping': 'ping',
  '/version': 'version',
  '/info': 'info',
  '/events': 'events',
  '/auth': 'auth',
  '/system/df': 'system.df',
  '/build': 'build',
  '/build/prune': 'build.prune',
  '/session': 'build.session',
  '/grpc': 'build.grpc',
  '/images/json': 'image.list',
  '/images/create': 'image.pull',
  '/images/get': 'image.export',
  '/images/load': 'image.load',
  '/images/prune': 'image.prune',
  '/images/search': 'image.search',
  '/containers/json': 'container.list',
  '/containers/create': 'container.create',
  '/containers/prune': 'container.prune',
};

const IMAGE_ACTIONS: Record<string, string> = { json: 'image.inspect', history: 'image.history', tag: 'image.tag', push: 'image.push', get: 'image.export' };

/**
 * The operation a request to the engine is, from its method and path (query
 * and API version left out): a name from a fixed set, whatever ids and image
 * references the path holds, so a metric labelled with it stays small.
 */
export function engineOperation(method: string, path: string): string {
  const bare = path.replace(/\?.*$/, '').replace(/^\/v\d+(\.\d+)?(?=\/)/, '');
  const fixed = FIXED[bare];
  if (fixed) return fixed;
  const image = /^\/images\/.+?(?:\/(json|history|tag|push|get))?$/.exec(bare);
  if (image) return image[1] ? (IMAGE_ACTIONS[image[1]] as string) : method === 'DELETE' ? 'image.remove' : 'other';
  const container = /^\/containers\/[^/]+(?:\/([a-z]+))?$/.exec(bare);
  if (container) {
    const action = container[1];
    if (action === undefined) return method === 'DELETE' ? 'container.remove' : 'other';
    if (action === 'json') return 'container.inspect';
    return CONTAINER_ACTIONS.has(action) ? `container.${action}` : 'container.other';
  }
  if (/^\/exec\/[^/]+\/(start|json|resize)$/.test(bare)) return 'exec';
  if (/^\/distribution\/.+\/json$/.test(bare)) return 'distribution.inspect';
  return 'other';
}

interface DialOptions {
  method?: string;
  path?: string;
}

type Dial = (options: DialOptions, callback: (error: unknown, result: unknown) => void) => unknown;

/**
 * Times every request dockerode's modem makes (the one place all of them,
 * streams and hijacked connections included, go through) and tells `observe`.
 * An observer that throws is ignored: metrics never fail an engine call.
 */
export function observeEngineRequests(modem: { dial: Dial }, observe: EngineRequestObserver): void {
  const dial = modem.dial.bind(modem);
  modem.dial = (options, callback) => {
    // Before dial: it prefixes the API version to options.path.
    const operation = engineOperation(options.method ?? 'GET', options.path ?? '');
    const started = performance.now();
    return dial(options, (error, result) => {
      try {
        observe(operation, (performance.now() - started) / 1000);
      } catch {
        // A metric is not worth a failed engine call.
      }
      callback(error, result);
    });
  };
}
