#!/usr/bin/env bash
# Builds, once, the base images the Dockerfile and docker-compose.yml start from. Docker Hub is
# out of reach, so they are made here from what is: Debian's package mirror (the one apt on this
# machine is configured with) and the npm registry (Node, through scripts/node.sh).
#
#   drydock-base/debian:bookworm     debootstrap --variant=minbase, apt lists and caches removed;
#                                    CA certificates, with the ones added on this machine
#                                    (/usr/local/share/ca-certificates: a TLS-inspecting proxy's)
#   drydock-base/node:<.nvmrc>       that, plus the Node and npm of scripts/node.sh, and a `node` user
#   drydock-base/services:bookworm   that, plus Debian's redis-server and docker-registry
#
# An image is kept while its recipe label matches (what builds it, and the image it builds
# on): running this twice costs nothing; changing a recipe rebuilds that image and those on it.
# Prints the three references.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NODE_VERSION=$(tr -d ' v\n' <"$ROOT/.nvmrc")
SUITE=bookworm
PREFIX=${DRYDOCK_BASE_PREFIX:-drydock-base}
DEBIAN_IMAGE=$PREFIX/debian:$SUITE
NODE_IMAGE=$PREFIX/node:$NODE_VERSION
SERVICES_IMAGE=$PREFIX/services:$SUITE
# Debian's client: /usr/local/bin may hold one that defaults to BuildKit, which this engine lacks.
DOCKER=/usr/bin/docker
[[ -x $DOCKER ]] || DOCKER=docker

log() { printf '[base-images] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# recipe TEXT...: the label that says how an image was made.
recipe() { printf '%s\n' "$@" | sha256sum | cut -c1-16; }

# current TAG RECIPE: the image exists and was made by that recipe.
current() {
  [[ $($DOCKER image inspect -f '{{index .Config.Labels "drydock.base.recipe"}}' "$1" 2>/dev/null) == "$2" ]]
}

# The mirror apt here already uses for $SUITE's main component: one-line sources.list entries
# first, then deb822 .sources paragraphs (Enabled: no skipped).
debian_mirror() {
  local files=()
  [[ -f /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
  local f
  for f in /etc/apt/sources.list.d/*.list; do [[ -f $f ]] && files+=("$f"); done
  if ((${#files[@]})); then
    awk -v suite="$SUITE" '$1 == "deb" {
        i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i + 1) == suite) { print $i; exit }
      }' "${files[@]}" | grep . && return
  fi
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    awk -v suite="$SUITE" '
      function flush() {
        if (enabled && deb && uri != "" && (" " suites " ") ~ (" " suite " ")) { print uri; found = 1; exit }
        enabled = 1; deb = 0; uri = ""; suites = ""
      }
      BEGIN { enabled = 1 }
      /^[ \t]*$/ { flush(); next }
      /^#/ { next }
      tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { $1 = ""; suites = $0 }
      tolower($1) == "enabled:" { enabled = (tolower($2) != "no") }
      END { if (!found) flush() }' "$f" | grep . && return
  done
  return 1
}

local_cas() { find /usr/local/share/ca-certificates -type f -name '*.crt' 2>/dev/null | sort; }

build_debian() {
  local cas=() ca
  mapfile -t cas < <(local_cas)
  local made_by
  made_by=$(recipe "$(declare -f build_debian)" "$(cat "${cas[@]}" /dev/null)")
  current "$DEBIAN_IMAGE" "$made_by" && return
  command -v debootstrap >/dev/null || {
    log "installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  local mirror
  mirror=$(debian_mirror | head -n1) || die "no deb source for $SUITE in apt's configuration"
  log "debootstrap --variant=minbase $SUITE (from apt's configured mirror)"
  # Global, not local: the EXIT trap runs after the function's locals are gone.
  rootfs=$(mktemp -d "${TMPDIR:-/tmp}/drydock-rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 ||
    { tail -n 20 "$rootfs.log" >&2; die "debootstrap failed (log: $rootfs.log)"; }
  rm -f "$rootfs.log"
  # Behind a TLS-inspecting proxy, npm (in the Dockerfile's build) trusts what this machine does.
  for ca in "${cas[@]}"; do cp "$ca" "$rootfs/usr/local/share/ca-certificates/"; done
  ((${#cas[@]} == 0)) || chroot "$rootfs" update-ca-certificates >/dev/null 2>&1 || die "update-ca-certificates failed"
  # What a container never needs: the package lists and caches (apt-get update brings them back),
  # documentation and man pages. dpkg is told so, so that later installs leave them out too.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log
  printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/info/*\n' \
    >"$rootfs/etc/dpkg/dpkg.cfg.d/01-drydock-nodoc"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$rootfs/etc/apt/apt.conf.d/01-drydock-norecommends"
  tar -C "$rootfs" --numeric-owner -c . |
    $DOCKER import --change 'CMD ["bash"]' --change "LABEL drydock.base.recipe=$made_by" - "$DEBIAN_IMAGE" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
}

# build_from TAG DOCKERFILE FILL [docker build options...]: builds TAG from DOCKERFILE on the
# Debian image, in a context directory the function FILL fills (":" for none). --network host
# for those that run apt-get: containers on this engine have none.
build_from() {
  local tag=$1 dockerfile=$2 fill=$3 made_by
  shift 3
  made_by=$(recipe "$dockerfile" "$($DOCKER image inspect -f '{{.Id}}' "$DEBIAN_IMAGE")")
  current "$tag" "$made_by" && return
  log "building $tag"
  context=$(mktemp -d)
  trap 'rm -rf "$context"' EXIT
  "$fill" "$context"
  printf '%s\n' "$dockerfile" >"$context/Dockerfile"
  DOCKER_BUILDKIT=0 $DOCKER build -q "$@" --label "drydock.base.recipe=$made_by" -t "$tag" "$context" >/dev/null
  rm -rf "$context"
  trap - EXIT
}

# Headers included: node-gyp builds the optional native modules against them, without nodejs.org.
node_context() {
  cp -a "$(dirname "$("$ROOT/scripts/node.sh")")" "$1/node"
  rm -f "$1/node/.complete" "$1/node"/*.md "$1/node/LICENSE"
}

build_node() {
  build_from "$NODE_IMAGE" "FROM $DEBIAN_IMAGE
COPY node /usr/local/
# Node reads its own CA list, not Debian's: this adds the machine's (a TLS-inspecting proxy's).
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
# Node's official build links libatomic, which minbase lacks.
RUN apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libatomic1 >/dev/null \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log
# uid 1000, as in Node's official images: the name and id the Dockerfile's USER relies on.
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --create-home --shell /bin/bash node
CMD [\"node\"]" node_context --network host
}

build_services() {
  build_from "$SERVICES_IMAGE" "FROM $DEBIAN_IMAGE
RUN apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server docker-registry >/dev/null \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log
CMD [\"bash\"]" : --network host
}

build_debian
build_node
build_services
printf '%s\n' "$DEBIAN_IMAGE" "$NODE_IMAGE" "$SERVICES_IMAGE"
