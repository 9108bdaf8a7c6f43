# Drydock: the API and the job workers, one image (DRYDOCK_ROLE picks which).
# Builds with the classic builder too (DOCKER_BUILDKIT=0): no BuildKit-only syntax.
#
# The bases are made locally by scripts/base-images.sh (Docker Hub is out of reach): Debian 12
# from debootstrap, plus the Node of .nvmrc from the npm registry. scripts/compose.sh builds
# them, then this with the host's network, which `npm ci` needs (containers here have none):
#
#   scripts/base-images.sh && docker build --network host -t drydock:local .

# The Node of .nvmrc (`make lint` checks they agree); the base image is named after it.
ARG NODE_VERSION=26.12.1
ARG NODE_IMAGE=drydock-base/node:${NODE_VERSION}

# The runtime's npm packages, from the lockfile alone: a source change reuses this layer.
FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV NX_DAEMON=false NX_NO_CLOUD=true
# Dependencies first, so that a source change reuses this layer.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY . .
# webpack bundles apps/api and libs/*; the npm packages stay external (the deps stage has them).
RUN npx nx build api

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    DRYDOCK_DATA_DIR=/data
WORKDIR /app
COPY --from=deps /src/package.json ./
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist/apps/api ./dist/apps/api
# Generated secrets (secret key, admin token hash) and build contexts live in /data: mount a volume there.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
# The engine socket is reached through the group that owns it on the host (compose: group_add).
USER node
EXPOSE 3000
CMD ["node", "dist/apps/api/main.js"]
