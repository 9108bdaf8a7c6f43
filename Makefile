# The two commands of the quick start. Each does all of its own set-up:
# system packages if missing, Node (.nvmrc), npm ci, and the services it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := run
.PHONY: run test install toolchain build unit unit-fast e2e services-test lint typecheck bench

RUN_REDIS_PORT ?= 6380

# Every recipe runs on the Node of .nvmrc, which scripts/node.sh brings into .data/toolchain:
# npm ci, nx, jest, the benches and Drydock itself (the suites spawn process.execPath).
NODE_VERSION := $(shell tr -d ' v\n' < .nvmrc)
TOOLCHAIN := $(CURDIR)/.data/toolchain/node-v$(NODE_VERSION)
export PATH := $(TOOLCHAIN)/bin:$(PATH)

toolchain:
	@scripts/node.sh >/dev/null
	@[[ $$(node --version) == v$(NODE_VERSION) ]] || { echo "node on PATH is $$(command -v node) $$(node --version), not v$(NODE_VERSION)" >&2; exit 1; }

# Native modules are built for one Node ABI: a new Node version means a new npm ci. node-gyp
# (ssh2, cpu-features) builds against the toolchain's own headers: nodejs.org may be out of reach.
node_modules/.installed-node-$(NODE_VERSION): package-lock.json | toolchain
	npm_config_nodedir=$(TOOLCHAIN) npm ci --no-audit --no-fund
	touch $@

install: node_modules/.installed-node-$(NODE_VERSION)

# The API and the console it serves under /console.
build: install
	npx nx run-many -t build -p api console

# Drydock on http://127.0.0.1:3000 against the local engine; a private redis-server
# under .data/ unless REDIS_URL is set.
run: build
	scripts/services.sh run
	NODE_ENV=production REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:$(RUN_REDIS_PORT)} DRYDOCK_DATA_DIR=$${DRYDOCK_DATA_DIR:-.data} \
	  node dist/apps/api/main.js

services-test:
	scripts/services.sh test

typecheck: install
	npx nx run-many -t typecheck

lint: install
	npx nx run-many -t lint
	docker-compose -f docker-compose.yml config -q
	@grep -qx 'ARG NODE_VERSION=$(NODE_VERSION)' Dockerfile || { echo "Dockerfile: want ARG NODE_VERSION=$(NODE_VERSION), as .nvmrc" >&2; exit 1; }

# The fast tier: the api, engine-adapter and core specs need no engine, Redis or registry. Pointed
# at nothing, so a spec that starts needing a service fails here rather than passing by luck.
unit-fast: install
	REDIS_URL=redis://127.0.0.1:1 DOCKER_HOST=unix:///nonexistent npx nx run-many -t test -p api docker core --skip-nx-cache

# Every spec; libs/jobs' stores and runner are tested against a real Redis.
unit: install services-test
	set -a; source .data/test/env; set +a; npx nx run-many -t test --skip-nx-cache

e2e: build services-test
	set -a; source .data/test/env; set +a; npx jest -c test/jest.config.ts

# Every suite, against real services this starts itself.
test: install services-test typecheck lint unit e2e

bench: build
	scripts/services.sh test
	set -a; source .data/test/env; set +a; bench/run
