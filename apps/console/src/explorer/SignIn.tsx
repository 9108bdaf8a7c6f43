import { useId, useState, type FormEvent } from 'react';
import { writeToken } from './token';

/** What the API said about a token, in its own words (a GraphQL error's message), or null when it was accepted. */
async function refusal(token: string): Promise<string | null> {
  try {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    if (response.ok) return null;
    const body = (await response.json().catch(() => ({}))) as { errors?: Array<{ message?: string }>; detail?: string };
    return body.errors?.[0]?.message ?? body.detail ?? `the API answered ${response.status}`;
  } catch (error) {
    return `the API could not be reached: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** The explorer's own small sign-in, for when it is opened without the console: it writes the same session key the console reads. */
export function SignIn({ onSignedIn }: { onSignedIn: (token: string) => void }) {
  const inputId = useId();
  const errorId = useId();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const given = token.trim();
    if (!given) return setError('enter a token');
    setBusy(true);
    const refused = await refusal(given);
    setBusy(false);
    if (refused !== null) return setError(refused);
    writeToken(given);
    onSignedIn(given);
  };

  return (
    <form className="explorer-sign-in" onSubmit={(event) => void submit(event)} aria-labelledby={`${inputId}-title`}>
      <h2 id={`${inputId}-title`}>Sign in</h2>
      <p>The explorer runs queries as the token's owner. The token stays in this tab's session storage.</p>
      <label htmlFor={inputId}>Token</label>
      <input
        id={inputId}
        name="token"
        type="password"
        autoComplete="off"
        spellCheck={false}
        value={token}
        onChange={(event) => setToken(event.target.value)}
        aria-invalid={error !== null}
        aria-describedby={error !== null ? errorId : undefined}
        required
      />
      <button type="submit" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
      {error !== null && (
        <p id={errorId} className="explorer-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
