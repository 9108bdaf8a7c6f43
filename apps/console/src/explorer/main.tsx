import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

function Explorer() {
  return <h1>Drydock GraphQL explorer</h1>;
}

const root = document.getElementById('root');
if (root) createRoot(root).render(<StrictMode><Explorer /></StrictMode>);
