# Drydock: the API and the job workers, one image (DRYDOCK_ROLE picks which).
# Builds with the classic builder too (DOCKER_BUILDKIT=0): no BuildKit-only syntax.

# The Node of .nvmrc (`make lint` checks they agree), Node's official Debian 12 images.
ARG NODE_VERSION=26.12.1

FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
ENV NX_DAEMON=false NX_NO_CLOUD=true
# Dependencies first, so that a source change reuses this layer.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# webpack bundles apps/api and libs/*; the npm packages stay external, so prune to runtime ones.
RUN npx nx build api \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    DRYDOCK_DATA_DIR=/data
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/apps/api ./dist/apps/api
# Generated secrets (secret key, admin token hash) live in /data: mount a volume there.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
# The engine socket is reached through the group that owns it on the host (compose: group_add).
USER node
EXPOSE 3000
CMD ["node", "dist/apps/api/main.js"]
