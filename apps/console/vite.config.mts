import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig, type Rolldown } from 'vite';

/**
 * GraphiQL's packages (and the react-compiler-runtime they ship) open their modules with
 * "use no memo", a React Compiler hint that is meaningless once bundled: rolldown warns
 * that it drops it, once per module. Only that warning, from those packages, is dropped.
 */
function isKnownHarmless(log: Rolldown.RolldownLog): boolean {
  return (
    log.code === 'MODULE_LEVEL_DIRECTIVE' &&
    log.message.includes('"use no memo"') &&
    /node_modules[\\/](@graphiql[\\/]|react-compiler-runtime[\\/])/.test(log.id ?? log.message)
  );
}

// Two pages: the console, and the GraphQL explorer, whose editor is heavy enough to be
// loaded only by those who open it. Everything is bundled: the machine reaches no CDN.
export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  plugins: [react()],
  // @drydock/client is the workspace's library, found where tsconfig.base.json's paths say (its sources, not a build).
  resolve: { tsconfigPaths: true },
  build: {
    outDir: resolve(import.meta.dirname, '../../dist/apps/console'),
    emptyOutDir: true,
    // Monaco (the explorer's editor) is one ~2.7 MB chunk that cannot be split further and that only
    // explorer.html loads; the console's own page stays far below this. Past 3 MB is news again.
    chunkSizeWarningLimit: 3000,
    rolldownOptions: {
      input: {
        main: resolve(import.meta.dirname, 'index.html'),
        explorer: resolve(import.meta.dirname, 'explorer.html'),
      },
      onwarn(log, warn) {
        if (!isKnownHarmless(log)) warn(log);
      },
    },
  },
});
