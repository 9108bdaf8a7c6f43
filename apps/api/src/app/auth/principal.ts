import type {} from 'fastify';

/** What a bearer token may do. Each role includes the ones before it. */
export const TOKEN_ROLES = ['viewer', 'builder', 'admin'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

const RANK: Record<TokenRole, number> = { viewer: 0, builder: 1, admin: 2 };

/** Who a request is: the tokens file entry its bearer token matched, without the hash. */
export interface Principal {
  readonly name: string;
  readonly team: string;
  readonly role: TokenRole;
  /** Repository patterns a builder may write (`team-a/*`, `localhost:5000/team-a/**`). */
  readonly namespaces: readonly string[];
}

export function roleAtLeast(role: TokenRole, required: TokenRole): boolean {
  return RANK[role] >= RANK[required];
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by AuthGuard once the bearer token is known. */
    principal?: Principal;
  }
}
