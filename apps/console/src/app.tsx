import { useEffect, useState } from 'react';
import { closeLive, consoleProblem, getMe, problemOf, storedToken, storeToken, type DrydockProblemError, type Me } from './api';
import { ProblemAlert } from './components/problem-alert';
import { BuildPage } from './pages/build-page';
import { ImagePage } from './pages/image-page';
import { ImagesPage } from './pages/images-page';
import { JobPage } from './pages/job-page';
import { JobsPage } from './pages/jobs-page';
import { PullPage } from './pages/pull-page';
import { SignIn } from './pages/sign-in';
import { href, useRoute } from './router';
import { SessionContext, useCan, useSession } from './session';

export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(() => storedToken() !== null);
  const [problem, setProblem] = useState<DrydockProblemError | null>(null);

  // A token kept from earlier in this tab's session is checked again: it may have been revoked since.
  useEffect(() => {
    if (!storedToken()) return;
    getMe().then(
      (who) => {
        setMe(who);
        setChecking(false);
      },
      (error: unknown) => {
        storeToken(null);
        setProblem(problemOf(error));
        setChecking(false);
      },
    );
  }, []);

  const signOut = () => {
    storeToken(null);
    closeLive();
    setMe(null);
    setProblem(null);
  };

  if (checking) return <main className="page narrow"><p>Checking your token…</p></main>;
  if (!me) return <SignIn initialProblem={problem} onSignedIn={setMe} />;
  return (
    <SessionContext.Provider value={{ me, signOut }}>
      <Shell />
    </SessionContext.Provider>
  );
}

function Shell() {
  const route = useRoute();
  const { me, signOut } = useSession();
  const canBuild = useCan('builder');
  const section = route[0] ?? 'images';
  const link = (name: string, label: string) => (
    <a href={href(name)} aria-current={section === name ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <header className="topbar">
        <a className="brand" href={href('images')}>
          Drydock
        </a>
        <nav aria-label="Sections">
          {link('images', 'Images')}
          {canBuild && link('pull', 'Pull')}
          {canBuild && link('build', 'Build')}
          {link('jobs', 'Jobs')}
          <a href="/console/explorer.html">GraphQL</a>
        </nav>
        <div className="who">
          <span>
            {me.name} · {me.team} · <strong>{me.role}</strong>
          </span>
          <button type="button" className="secondary" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main className="page">{page(route, canBuild, me.role)}</main>
    </>
  );
}

function page(route: string[], canBuild: boolean, role: string) {
  const [section = 'images', id] = route;
  if ((section === 'pull' || section === 'build') && !canBuild) {
    return <ProblemAlert problem={consoleProblem(403, 'FORBIDDEN', 'Not allowed', `A ${role} token may look, not ${section}.`)} />;
  }
  switch (section) {
    case 'images':
      return id ? <ImagePage reference={id} engine={route[2]} /> : <ImagesPage />;
    case 'pull':
      return <PullPage />;
    case 'build':
      return <BuildPage />;
    case 'jobs':
      return id ? <JobPage id={id} /> : <JobsPage />;
    default:
      return <NotFound />;
  }
}

function NotFound() {
  return (
    <>
      <h1>Not found</h1>
      <ProblemAlert problem={consoleProblem(404, 'NOT_FOUND', 'No such page in the console', location.hash)} />
    </>
  );
}
