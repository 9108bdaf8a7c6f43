#!/usr/bin/env bash
# Installs (if missing) and starts, idempotently, the real services Drydock and
# its tests need: the Docker Engine, Redis and local registries. A service that
# already answers is left alone, so running this twice is harmless.
#
#   scripts/services.sh run    engine + the private redis of `make run`
#   scripts/services.sh test   engine + test redis + open and htpasswd registries
#                              + the busybox fixture image; writes .data/test/env
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA="$ROOT/.data"
mkdir -p "$DATA"

log() { printf '[services] %s\n' "$*" >&2; }

# Waits until "$@" succeeds, for at most $DEADLINE seconds.
wait_for() {
  local what=$1; shift
  local deadline=$((SECONDS + ${DEADLINE:-60}))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then log "$what did not come up"; return 1; fi
    sleep 0.5
  done
}

ensure_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v htpasswd >/dev/null || missing+=(apache2-utils)
  [[ -x /bin/busybox || -x /usr/bin/busybox ]] || missing+=(busybox-static)
  command -v curl >/dev/null || missing+=(curl)
  # Only to check docker-compose.yml (make test); nothing here runs compose.
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  # The console's browser suites drive Debian's Chromium (Playwright's own downloads are out of reach).
  [[ ${1:-} != test || -x /usr/bin/chromium ]] || missing+=(chromium)
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# Debian's client; /usr/local/bin may hold a newer client that defaults to BuildKit.
DOCKER=/usr/bin/docker
[[ -x $DOCKER ]] || DOCKER=docker

ensure_dockerd() {
  if [[ -n ${DOCKER_HOST:-} ]] || $DOCKER version >/dev/null 2>&1; then return; fi
  log "starting dockerd"
  # No bridge and no iptables: containers get no network, which is what Drydock wants.
  nohup dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
    >"$DATA/dockerd.log" 2>&1 &
  wait_for dockerd $DOCKER version
}

# ensure_redis PORT DIR [persist]
ensure_redis() {
  local port=$1 dir=$2 persist=${3:-}
  if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then return; fi
  mkdir -p "$dir"
  log "starting redis-server on 127.0.0.1:$port"
  local save=(--save '' --appendonly no)
  [[ -n $persist ]] && save=(--appendonly yes)
  # noeviction: BullMQ must never lose a job key to memory pressure.
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes \
    --logfile "$dir/redis.log" --maxmemory-policy noeviction "${save[@]}"
  wait_for "redis :$port" bash -c "redis-cli -p $port ping | grep -q PONG"
}

# ensure_redis_cluster DIR MASTERS REPLICAS: a master per port of MASTERS with every slot
# assigned, then each port of REPLICAS added as a replica (of the master with fewest).
# A node that answers is left alone; one restarted finds its place in its nodes.conf.
cluster_ok() { redis-cli -p "$1" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; }
cluster_node() {
  local dir=$1 port=$2
  if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then return; fi
  mkdir -p "$dir/$port"
  log "starting redis cluster node on 127.0.0.1:$port"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir/$port" --daemonize yes \
    --logfile "$dir/$port/redis.log" --maxmemory-policy noeviction --save '' --appendonly no \
    --cluster-enabled yes --cluster-config-file "$dir/$port/nodes.conf" --cluster-node-timeout 3000
  wait_for "redis cluster node :$port" bash -c "redis-cli -p $port ping | grep -q PONG"
}
# Every node up and known to the first, none failed, every slot served, a replica for each master.
cluster_whole() {
  local first=$1 total=$2 replicas=$3 nodes
  nodes=$(redis-cli -p "$first" cluster nodes 2>/dev/null) || return 1
  cluster_ok "$first" && [[ $(grep -c . <<<"$nodes") -eq $total ]] && ! grep -q fail <<<"$nodes" &&
    [[ $(grep -c slave <<<"$nodes") -ge $replicas ]]
}
ensure_redis_cluster() {
  local dir=$1 masters=($2) replicas=($3)
  local port nodes=()
  # A cluster that lost a node (a killed run, a machine kept from before) is thrown away and made anew: it is
  # throw-away test state, and a half cluster would fail every suite on it.
  if redis-cli -p "${masters[0]}" ping 2>/dev/null | grep -q PONG &&
     ! cluster_whole "${masters[0]}" $((${#masters[@]} + ${#replicas[@]})) "${#replicas[@]}"; then
    log "resetting the redis cluster: a node is missing or failed"
    for port in "${masters[@]}" "${replicas[@]}"; do redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; done
    for port in "${masters[@]}" "${replicas[@]}"; do
      wait_for "redis cluster node :$port to stop" bash -c "! redis-cli -p $port ping >/dev/null 2>&1"
    done
    rm -rf "$dir"
  fi
  for port in "${masters[@]}" "${replicas[@]}"; do cluster_node "$dir" "$port"; done
  for port in "${masters[@]}"; do
    nodes+=("127.0.0.1:$port")
  done
  if redis-cli -p "${masters[0]}" cluster info | grep -q 'cluster_slots_assigned:0'; then
    log "creating redis cluster ${nodes[*]}"
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$dir/create.log"
  fi
  wait_for "redis cluster" cluster_ok "${masters[0]}"
  for port in "${replicas[@]}"; do
    # A node that knows only itself has not joined yet.
    if [[ $(redis-cli -p "$port" cluster info | sed -n 's/^cluster_known_nodes:\([0-9]*\).*/\1/p') != 1 ]]; then continue; fi
    log "adding redis cluster replica 127.0.0.1:$port"
    redis-cli --cluster add-node "127.0.0.1:$port" "127.0.0.1:${masters[0]}" --cluster-slave >>"$dir/create.log"
  done
  wait_for "redis cluster replicas" bash -c "[[ \$(redis-cli -p ${masters[0]} cluster nodes | grep -c slave) -ge ${#replicas[@]} ]]"
  wait_for "redis cluster" cluster_ok "${masters[0]}"
}

# ensure_redis_sentinel PORT MASTER-PORT NAME DIR: a sentinel watching the master at MASTER-PORT.
ensure_redis_sentinel() {
  local port=$1 master=$2 name=$3 dir=$4
  if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then return; fi
  mkdir -p "$dir"
  # Sentinel rewrites its configuration file: it must be its own, writable.
  printf 'bind 127.0.0.1\nport %s\ndir %s\nsentinel monitor %s 127.0.0.1 %s 1\n' "$port" "$dir" "$name" "$master" >"$dir/sentinel.conf"
  log "starting redis-sentinel on 127.0.0.1:$port watching :$master as $name"
  # redis-server runs as a sentinel itself (Debian's redis-sentinel package only adds a service for it).
  redis-server "$dir/sentinel.conf" --sentinel --daemonize yes --logfile "$dir/sentinel.log"
  wait_for "redis sentinel :$port" bash -c "redis-cli -p $port sentinel get-master-addr-by-name $name | grep -q $master"
}

# ensure_registry NAME PORT [htpasswd-file]
ensure_registry() {
  local name=$1 port=$2 htpasswd=${3:-}
  if curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" | grep -qE '200|401'; then return; fi
  local dir="$DATA/registry-$name"
  mkdir -p "$dir/storage"
  {
    printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n' "$dir/storage"
    printf 'http:\n  addr: 127.0.0.1:%s\n' "$port"
    [[ -n $htpasswd ]] && printf 'auth:\n  htpasswd:\n    realm: drydock-%s\n    path: %s\n' "$name" "$htpasswd"
  } >"$dir/config.yml"
  log "starting registry $name on 127.0.0.1:$port"
  nohup docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  wait_for "registry $name" bash -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/v2/ | grep -qE '200|401'"
}

# The tests' base image: busybox from scratch, since Docker Hub is out of reach.
ensure_fixture() {
  local ref=$1
  local repo=${ref%:*} tag=${ref##*:} host=${ref%%/*}
  local path=${repo#*/}
  if curl -sf -o /dev/null "http://127.0.0.1:${host#*:}/v2/$path/manifests/$tag" \
       -H 'Accept: application/vnd.docker.distribution.manifest.v2+json'; then return; fi
  log "building fixture $ref"
  local ctx; ctx=$(mktemp -d)
  cp "$(command -v busybox)" "$ctx/busybox"
  cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["/bin/sh"]
DOCKERFILE
  DOCKER_BUILDKIT=0 $DOCKER build -q -t "$ref" "$ctx" >/dev/null
  $DOCKER push "$ref" >/dev/null
  rm -rf "$ctx"
}

case ${1:-} in
  run)
    ensure_packages
    ensure_dockerd
    [[ -n ${REDIS_URL:-} ]] || ensure_redis "${DRYDOCK_RUN_REDIS_PORT:-6380}" "$DATA/redis" persist
    ;;
  test)
    ensure_packages test
    ensure_dockerd
    T="$DATA/test"
    mkdir -p "$T"
    ensure_redis 6391 "$T/redis"
    # Redis Cluster (three masters, a replica each) and a Sentinel-watched master, for the suites that test them.
    ensure_redis_cluster "$T/redis-cluster" '7001 7002 7003' '7004 7005 7006'
    ensure_redis 6393 "$T/redis-sentinel-master"
    ensure_redis_sentinel 26393 6393 drydock-e2e "$T/redis-sentinel"
    # A fixed password for a loopback-only throw-away registry: a second checkout that finds
    # the registry already running (started by another) must know its login. It is distinctive
    # so the suites can grep every answer, Redis value and log line for it.
    PASSWORD=dd-e2e-Reg1stry-pw-7f3a9c
    htpasswd -Bbn drydock "$PASSWORD" >"$T/htpasswd"
    ensure_registry open 5001
    ensure_registry auth 5002 "$T/htpasswd"
    ensure_fixture localhost:5001/drydock-fixture/busybox:1
    cat >"$T/env" <<ENV
REDIS_URL=redis://127.0.0.1:6391
E2E_REGISTRY=localhost:5001
E2E_AUTH_REGISTRY=localhost:5002
E2E_AUTH_USER=drydock
E2E_AUTH_PASSWORD=$PASSWORD
E2E_FIXTURE=localhost:5001/drydock-fixture/busybox:1
E2E_REDIS_CLUSTER_URL=redis+cluster://127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
E2E_REDIS_SENTINEL_URL=redis+sentinel://127.0.0.1:26393/drydock-e2e
ENV
    ;;
  *)
    echo "usage: $0 run|test" >&2
    exit 2
    ;;
esac
