import { createContext, useContext } from 'react';
import type { Me, Role } from './api';

export interface Session {
  me: Me;
  signOut(): void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

const RANK: Record<Role, number> = { viewer: 0, builder: 1, admin: 2 };

/** Whether the signed-in token's role reaches `role`: what decides which buttons are offered. */
export function useCan(role: Role): boolean {
  return RANK[useSession().me.role] >= RANK[role];
}
