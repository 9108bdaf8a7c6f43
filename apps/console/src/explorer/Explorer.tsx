import { GraphiQL } from 'graphiql';
import { useEffect, useMemo, useRef, useState } from 'react';
import { explorerFetcher } from './fetcher';
import { initialDocument } from './initial-document';
import { SignIn } from './SignIn';
import { repairTabSemantics } from './tab-semantics';
import { forgetToken, readToken } from './token';

const DEFAULT_QUERY = `# Run with the button or Ctrl-Enter;
# the book icon documents every type.
{
  images {
    shortId
    repoTags { repository tag }
    created
    size
  }
}
`;

function Header({ onSignOut }: { onSignOut?: () => void }) {
  return (
    <header className="explorer-header">
      <h1>Drydock GraphQL explorer</h1>
      <nav aria-label="Drydock">
        <a href="/console/">Console</a>
        <a href="/docs">REST API (OpenAPI)</a>
        {onSignOut && (
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        )}
      </nav>
    </header>
  );
}

function SignedIn({ token, onSignOut }: { token: string; onSignOut: () => void }) {
  const { fetcher, dispose } = useMemo(() => explorerFetcher(token, window.location), [token]);
  useEffect(() => dispose, [dispose]);
  const initial = useMemo(() => initialDocument(window.location.search), []);
  const main = useRef<HTMLElement>(null);
  useEffect(() => (main.current ? repairTabSemantics(main.current) : undefined), []);
  return (
    <>
      <Header onSignOut={onSignOut} />
      <main ref={main} className="explorer-main" aria-label="GraphQL explorer">
        <GraphiQL
          fetcher={fetcher}
          initialQuery={initial.query}
          initialVariables={initial.variables}
          defaultQuery={DEFAULT_QUERY}
          isHeadersEditorEnabled={false}
          showPersistHeadersSettings={false}
        >
          {/* The page's own header names it; GraphiQL's default logo would link off the machine. */}
          <GraphiQL.Logo>{null}</GraphiQL.Logo>
        </GraphiQL>
      </main>
    </>
  );
}

export function Explorer() {
  const [token, setToken] = useState<string | null>(readToken);
  if (token === null) {
    return (
      <>
        <Header />
        <main className="explorer-main explorer-signed-out">
          <SignIn onSignedIn={setToken} />
        </main>
      </>
    );
  }
  return (
    <SignedIn
      token={token}
      onSignOut={() => {
        forgetToken();
        setToken(null);
      }}
    />
  );
}
