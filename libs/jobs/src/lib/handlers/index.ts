export * from './sources';
export * from './pull.job';
export * from './push.job';
export * from './build.job';
export * from './synced-contexts';
export * from './run.job';
