// Monaco (GraphiQL's editor) runs its language services in workers, which Vite must bundle as such.
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import './explorer.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Explorer } from './Explorer';

const root = document.getElementById('root');
if (root) createRoot(root).render(<StrictMode><Explorer /></StrictMode>);
