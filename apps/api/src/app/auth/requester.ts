import type { Principal } from './principal';

/** Who a job belongs to, from the caller's token; jobs are visible to their team and to admins. */
export interface Requester {
  team: string;
  owner: string;
  idempotencyKey?: string;
}

export function requesterOf(principal: Principal, idempotencyKey?: string): Requester {
  return { team: principal.team, owner: principal.name, ...(idempotencyKey ? { idempotencyKey } : {}) };
}

export function viewerOf(principal: Principal): { team: string; admin: boolean } {
  return { team: principal.team, admin: principal.role === 'admin' };
}
