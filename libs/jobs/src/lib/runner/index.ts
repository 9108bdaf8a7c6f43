export * from './handler';
export * from './queue-name';
export * from './job-queue';
export * from './job-worker';
export { FailedWithResult } from './ending';
export * from './team-slots';
export * from './exclusive-leases';
export * from './job-trace';
