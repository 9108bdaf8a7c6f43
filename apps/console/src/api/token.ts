/** The bearer token lives in session storage only (never the URL); the explorer page reads the same key. */
export const TOKEN_KEY = 'drydock.token';

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}
