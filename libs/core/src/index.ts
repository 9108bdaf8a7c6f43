export * from './lib/errors';
export * from './lib/reference';
export * from './lib/redis-unavailable';
