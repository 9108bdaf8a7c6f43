/** Where the console's sign-in keeps the token: session storage only, so it dies with the tab and never rides in a URL. */
export const TOKEN_KEY = 'drydock.token';

export function readToken(): string | null {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token && token.trim() ? token.trim() : null;
}

export function writeToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}
