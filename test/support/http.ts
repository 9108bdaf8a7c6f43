import request from 'supertest';
import type { RunningApp } from './app';

/**
 * supertest against the running app with a bearer token on every request
 * (the default admin's unless another is given):
 *   await api(running).get('/v1/images').expect(200);
 *   await api(running, running.tokens['viewer']).post(...).expect(403);
 */
export function api(running: RunningApp, token: string = running.token) {
  return request.agent(running.url).set('authorization', `Bearer ${token}`);
}
