// The Node entry: everything of the browser entry, and the helpers that read the file system.
export * from './index';
export { buildDirectory, type BuildDirectoryOptions } from './lib/build-directory';
