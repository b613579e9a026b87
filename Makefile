# TPS Lab. `make up` runs the system natively, `make test` runs every test; both install what
# they need first (Node 24 into .tools/, npm packages, Debian's nats-server / prometheus).
SHELL := /bin/bash
NODE_BIN := $(CURDIR)/.tools/node24/node_modules/node/bin
export PATH := $(NODE_BIN):$(PATH)
# Relative: recipes run in this folder, and a path with spaces (a clone in "~/My Projects") would
# split an absolute one.
TPS := bin/tps
# `make up` runs natively unless MODE=compose (docker compose; docs/compose.md). The other targets
# (status, load, chaos, chaos-stop, audit, down) act on whichever stack runs from this checkout,
# native or compose (scripts/stack.sh); MODE=native|compose chooses when both could.
MODE ?=
# Empty: the compose v2 plugin when present, else docker-compose (v1).
COMPOSE ?=
export COMPOSE

.DEFAULT_GOAL := help
.PHONY: help bootstrap compose-env up down status provision test test-unit test-compose typecheck bench bench-ingress bench-pipeline bench-autoscaler bench-tracing bench-recovery bench-nats bench-console bench-memory bench-status bench-overload logs clean generate lab chaos chaos-stop load audit

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

bootstrap: ## install Node 24, npm packages and nats-server when missing
	@scripts/bootstrap.sh

compose-env: ## write .env with random compose credentials (optional: the lab values apply without it); ADMIN=1: the admin API on; NATS=cluster: three NATS nodes
	@scripts/compose-env.sh

up: ## start the whole system in the background: natively (NATS=cluster: three nats-servers), or MODE=compose for docker compose
	@if [ "$(MODE)" = compose ]; then $(if $(NATS),TPS_NATS=$(NATS)) scripts/compose.sh up; \
	else echo "mode: native"; scripts/bootstrap.sh && TPS_MODE=native $(if $(NATS),TPS_NATS=$(NATS)) $(TPS) up; fi

down: ## stop whichever stack `make up` / `docker-compose up` started from this checkout
	@stack_root="$(CURDIR)"; . scripts/stack.sh; \
	case "$$(stack_mode "$(MODE)")" in \
	  compose) scripts/compose.sh down ;; \
	  *) if [ -x "$(NODE_BIN)/node" ]; then TPS_MODE=native $(TPS) down; else echo "nothing to stop (never bootstrapped)"; fi ;; \
	esac

status: ## the handbook's dashboard in a terminal, once, for whichever stack runs (bin/tps status; --watch and more there)
	@TPS_MODE=$(MODE) $(TPS) status

provision: bootstrap ## create or update the NATS streams, consumers and buckets
	@$(TPS) provision

test: ## every test, phase by phase: type check, unit and integration (real nats-server, Prometheus), then the compose stack on a Docker engine (root)
	@scripts/test.sh

test-unit: ## type check, unit and integration tests only (no Docker engine; root for the crash-disk tests)
	@scripts/test.sh unit

test-compose: ## the compose stack on a real Docker engine the test starts itself (root; docs/compose.md)
	@scripts/bootstrap.sh --with-prometheus
	@tests/docker/run.sh

typecheck: bootstrap ## type-check only
	@npx tsc -p .

bench-ingress: ## ingress vs bare publish route, and rejections at a full queue
	@scripts/bootstrap.sh --with-wrk
	@node bench/ingress.bench.ts

bench-pipeline: ## pipeline end to end vs raw JetStream, BullMQ, the same pipeline on BullMQ and the floor pipeline (rounds); latency at 500 jobs/s
	@scripts/bootstrap.sh --with-redis
	@node bench/pipeline.bench.ts

bench-autoscaler: bootstrap ## autoscaler reaction times (load step, load stop) and bottleneck detection, default policy
	@node bench/autoscaler.bench.ts --scenario step
	@node bench/autoscaler.bench.ts --scenario bottleneck


generate: bootstrap ## rewrite every generated file: nats.conf, compose worker services and scrape targets, scripts/contract.sh, alert rules, dashboards
	@node scripts/generate.ts

bench-tracing: ## what tracing costs: off (the API's no-op calls), the export's encoding (the SDK's serializer vs ours), one span made and exported (protobuf vs JSON), and the pipeline off vs on in one run
	@scripts/bootstrap.sh
	@node bench/tracing-off.bench.ts
	@node bench/tracing-export.bench.ts
	@node bench/pipeline.bench.ts --tracing

bench-recovery: bootstrap ## recovery time of the lab 2.4 and lab 3.1 scenarios under load (docs/scenarios.md)
	@node bench/scenario-recovery.bench.ts --scenario breaker-open --speed 2
	@node bench/scenario-recovery.bench.ts --scenario cascade-3-1 --speed 2

bench-nats: bootstrap ## JetStream publish with one copy on one server, one copy on a three-node cluster, three copies (R3)
	@node bench/nats-replicas.bench.ts

bench-console: bootstrap ## the console: its pages' weight, and its CPU at 500 jobs/s (idle, receiving spans, a board open)
	@node bench/console.bench.ts

bench-memory: bootstrap ## what the roles hold in memory doing nothing: each role's RSS, PSS and heap, the seven pipeline roles together (goal < 600 MB summed RSS)
	@node bench/idle-memory.bench.ts

bench-status: bootstrap ## job status at a full tps_jobs bucket: nats-server's CPU per status write and per job view, a key per job against a key per write
	@node bench/status-bucket.bench.ts

bench-overload: bootstrap ## the pipeline offered 2x and 10x its capacity, open-loop: goodput, refusals, SLO, memory, recovery (reliability matrix O1, O2)
	@node bench/overload.bench.ts

bench: bench-ingress bench-pipeline bench-autoscaler bench-tracing bench-recovery bench-nats bench-console bench-memory bench-status bench-overload ## every benchmark

lab: ## start a certification lab and print its brief: make lab LAB=2.1 (then bin/tps lab status|hint|check $(LAB); docs/labs/)
	@test -n "$(LAB)" || { echo 'make lab: which lab? e.g. make lab LAB=2.1 (bin/tps lab list)'; exit 2; }
	@bin/tps lab start $(LAB)

chaos: ## break something on purpose: default service-a fails every request (lab 2.4); TARGET= LATENCY= ERROR_RATE= FAULT= PARAMS= DURATION= (docs/chaos.md)
	@MODE=$(MODE) TARGET="$(TARGET)" FAULT="$(FAULT)" LATENCY="$(LATENCY)" ERROR_RATE="$(ERROR_RATE)" PARAMS="$(PARAMS)" DURATION="$(DURATION)" scripts/chaos.sh start

chaos-stop: ## clear every chaos fault and start again whatever a system fault stopped
	@MODE=$(MODE) scripts/chaos.sh stop

load: ## open-model load: RATE=500 [DURATION=2m] [MIX=fast.echo=60,...]; k6 if installed, else tps load (LOADGEN=k6|native)
	@RATE="$(RATE)" DURATION="$(DURATION)" MIX="$(MIX)" MODE="$(MODE)" LOADGEN="$(LOADGEN)" scripts/load.sh

audit: ## the no-loss audit of the newest load ledger [LEDGER=file] [WAIT=60s], for whichever stack runs
	@TPS_MODE=$(MODE) $(TPS) audit $(LEDGER) $(if $(WAIT),--wait $(WAIT))

logs: ## follow the logs of the native run
	@tail -n 20 -F .tps/logs/*.log

clean: down ## remove native-mode state and logs (.tps/)
	@rm -rf .tps
	@# The folders the compose console and tools container bind-mount stay, the user's own (a tracked file keeps each in git).
	@mkdir -p .tps/labs .tps/compose && : > .tps/labs/.gitkeep && : > .tps/compose/.gitkeep
