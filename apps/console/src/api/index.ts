/** Every call the console makes to the API goes through this folder, over @drydock/client. */
export { closeLive } from './client';
export * from './live';
export * from './problem';
export * from './rest';
export * from './token';
export * from './types';
