import { useState, type FormEvent } from 'react';
import { getMe, storeToken, type DrydockProblemError, type Me } from '../api';
import { ProblemAlert } from '../components/problem-alert';
import { useAction } from '../components/use-load';

/** A bearer token, checked against the API before it is kept (in session storage only). */
export function SignIn({ initialProblem, onSignedIn }: { initialProblem: DrydockProblemError | null; onSignedIn(me: Me): void }) {
  const [token, setToken] = useState('');
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const value = token.trim();
    const me = await action.run(() => getMe(value));
    if (!me) return;
    storeToken(value);
    onSignedIn(me);
  };
  return (
    <main className="page narrow">
      <h1>Sign in to Drydock</h1>
      <form className="card stack" onSubmit={submit}>
        <label htmlFor="token">API token</label>
        <input id="token" type="password" autoComplete="off" required value={token} onChange={(event) => setToken(event.target.value)} />
        <p className="hint">The token stays in this tab's session storage and is sent only to this API.</p>
        <button type="submit" disabled={action.busy}>
          Sign in
        </button>
      </form>
      <ProblemAlert problem={action.problem ?? initialProblem} />
    </main>
  );
}
