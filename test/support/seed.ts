/** The seed's Dockerfile (SEED.md), FROM a base of this machine's: what both builders must build alike. */
export const SEED_DOCKERFILE = (base: string): string =>
  [
    '# This is a comment',
    `FROM ${base}`,
    'MAINTAINER Kate Smith <ksmith@example.com>',
    'RUN echo "installing ruby" && mkdir -p /app',
    'RUN echo "gem install sinatra" > /app/Gemfile',
    'CMD ["cat", "/app/Gemfile"]',
  ].join('\n');
