#!/usr/bin/env bash
# Starts and stops the composed deployment (docker-compose.yml): Redis, a registry, the API and
# two workers, on the images scripts/base-images.sh makes (Docker Hub is out of reach).
#
#   scripts/compose.sh up     base images, build, start; returns once every service is healthy
#   scripts/compose.sh down   stop and remove it, volumes included
#   scripts/compose.sh ps     its services and their state
#   scripts/compose.sh logs [SERVICE...]   their output (the admin token made on first start is in it)
#
# Both are idempotent. The environment picks a deployment, so several can live side by side:
#   COMPOSE_PROJECT_NAME           its name (default drydock)
#   DRYDOCK_COMPOSE_API_PORT       the API on 127.0.0.1 (default 3000)
#   DRYDOCK_COMPOSE_REGISTRY_PORT  its registry on 127.0.0.1 (default 5000)
#   DRYDOCK_COMPOSE_WAIT_SECONDS   how long `up` waits for health (default 300)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-drydock}
# Debian's clients: /usr/local/bin may hold a docker that defaults to BuildKit, which this engine lacks.
DOCKER=/usr/bin/docker
[[ -x $DOCKER ]] || DOCKER=docker
COMPOSE=/usr/bin/docker-compose
[[ -x $COMPOSE ]] || COMPOSE=docker-compose
SOCKET=/var/run/docker.sock

log() { printf '[compose] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

compose() { "$COMPOSE" --project-directory "$ROOT" -f "$ROOT/docker-compose.yml" "$@"; }

# Every service's container reports healthy, within the deadline; a container that stops or turns
# unhealthy ends the wait at once, with its logs.
wait_healthy() {
  local deadline=$((SECONDS + ${DRYDOCK_COMPOSE_WAIT_SECONDS:-300}))
  local want ids states
  want=$(compose config --services | wc -l)
  while :; do
    mapfile -t ids < <(compose ps -q)
    states=$( ((${#ids[@]})) && $DOCKER inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "${ids[@]}")
    if ((${#ids[@]} == want)) && ! grep -qv ' running healthy$' <<<"$states"; then
      log "$want services healthy"
      return
    fi
    if grep -qE ' (exited|dead) | unhealthy$' <<<"$states" || ((SECONDS > deadline)); then
      log "not healthy:"
      printf '%s\n' "$states" >&2
      compose logs --no-color --tail 40 >&2 || true
      return 1
    fi
    sleep 1
  done
}

case ${1:-} in
  up)
    [[ -S $SOCKET ]] || die "no engine socket at $SOCKET (scripts/services.sh run starts the engine)"
    "$ROOT/scripts/base-images.sh" >/dev/null
    # The image runs as `node`; the socket is reached through the group that owns it here.
    DOCKER_GID=$(stat -c %g "$SOCKET")
    export DOCKER_GID
    log "building and starting $COMPOSE_PROJECT_NAME"
    compose up -d --build --remove-orphans
    wait_healthy
    ;;
  down)
    compose down --volumes --remove-orphans
    ;;
  ps)
    compose ps
    ;;
  logs)
    shift
    compose logs --no-color "$@"
    ;;
  *)
    echo "usage: $0 up|down|ps|logs" >&2
    exit 2
    ;;
esac
