# TPS Lab. `make up` runs the system natively, `make test` runs every test; both install what
# they need first (Node 24 into .tools/, npm packages, Debian's nats-server / prometheus).
SHELL := /bin/bash
NODE_BIN := $(CURDIR)/.tools/node24/node_modules/node/bin
export PATH := $(NODE_BIN):$(PATH)
TPS := $(CURDIR)/bin/tps
# native (default): everything runs as local processes; compose: docker compose (see docs/compose.md).
MODE ?= native
COMPOSE ?= docker compose

.DEFAULT_GOAL := help
.PHONY: help bootstrap compose-env up down status provision test typecheck bench bench-ingress bench-pipeline bench-autoscaler bench-tracing bench-recovery logs clean monitoring chaos chaos-stop load audit

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

bootstrap: ## install Node 24, npm packages and nats-server when missing
	@scripts/bootstrap.sh

compose-env: ## write .env with the compose credentials (once)
	@scripts/compose-env.sh

up: ## start the whole system in the background (MODE=native, the default, or MODE=compose)
	@echo "mode: $(MODE)"
	@if [ "$(MODE)" = compose ]; then \
	  scripts/compose-env.sh && $(COMPOSE) up -d --build --wait && \
	  echo "Grafana http://localhost:3000 (admin / see .env)  Jaeger http://localhost:16686  ingress http://localhost:8080"; \
	else scripts/bootstrap.sh && $(TPS) up; fi

down: ## stop everything `make up` started (same MODE)
	@if [ "$(MODE)" = compose ]; then $(COMPOSE) down; \
	elif [ -x $(NODE_BIN)/node ]; then $(TPS) down; else echo "nothing to stop (never bootstrapped)"; fi

status: ## the handbook's dashboard in a terminal, once (bin/tps status; --watch and more there)
	@if [ -x $(NODE_BIN)/node ]; then $(TPS) status; else echo "nothing running (never bootstrapped): make up first"; exit 1; fi

provision: bootstrap ## create or update the NATS streams, consumers and buckets
	@$(TPS) provision

test: ## run every test (type check, unit and integration against real nats-server and Prometheus)
	@scripts/bootstrap.sh --with-prometheus
	@npm test --silent

typecheck: bootstrap ## type-check only
	@npx tsc -p .

bench-ingress: ## ingress vs bare publish route, and rejections at a full queue
	@scripts/bootstrap.sh --with-wrk
	@node bench/ingress.bench.ts

bench-pipeline: ## pipeline end to end vs raw JetStream and BullMQ; latency at 500 jobs/s
	@scripts/bootstrap.sh --with-redis
	@node bench/pipeline.bench.ts

bench-autoscaler: bootstrap ## autoscaler reaction times (load step, load stop) and bottleneck detection, default policy
	@node bench/autoscaler.bench.ts --scenario step
	@node bench/autoscaler.bench.ts --scenario bottleneck


monitoring: bootstrap ## regenerate Prometheus rules and Grafana dashboards from monitoring/
	@node monitoring/generate.ts

bench-tracing: ## what tracing costs: off (the API's no-op calls), and the pipeline off vs on in one run
	@scripts/bootstrap.sh
	@node bench/tracing-off.bench.ts
	@node bench/pipeline.bench.ts --tracing

bench-recovery: bootstrap ## recovery time of the lab 2.4 and lab 3.1 scenarios under load (docs/scenarios.md)
	@node bench/scenario-recovery.bench.ts --scenario breaker-open --speed 2
	@node bench/scenario-recovery.bench.ts --scenario cascade-3-1 --speed 2

bench: bench-ingress bench-pipeline bench-autoscaler bench-tracing bench-recovery ## every benchmark

chaos: ## break something on purpose: default service-a fails every request (lab 2.4); TARGET= LATENCY= ERROR_RATE= FAULT= PARAMS= DURATION= (docs/chaos.md)
	@MODE=$(MODE) COMPOSE="$(COMPOSE)" TARGET="$(TARGET)" FAULT="$(FAULT)" LATENCY="$(LATENCY)" ERROR_RATE="$(ERROR_RATE)" PARAMS="$(PARAMS)" DURATION="$(DURATION)" scripts/chaos.sh start

chaos-stop: ## clear every chaos fault and start again whatever a system fault stopped
	@MODE=$(MODE) COMPOSE="$(COMPOSE)" scripts/chaos.sh stop

load: ## open-model load: RATE=500 [DURATION=2m] [MIX=fast.echo=60,...]; k6 if installed, else tps load
	@if [ "$(MODE)" != compose ]; then scripts/bootstrap.sh; fi
	@RATE="$(RATE)" DURATION="$(DURATION)" MIX="$(MIX)" MODE="$(MODE)" COMPOSE="$(COMPOSE)" scripts/load.sh

audit: bootstrap ## the no-loss audit of the newest load ledger [LEDGER=file] [WAIT=60s]
	@$(TPS) audit $(LEDGER) $(if $(WAIT),--wait $(WAIT))

logs: ## follow the logs of the native run
	@tail -n 20 -F .tps/logs/*.log

clean: down ## remove native-mode state and logs (.tps/)
	@rm -rf .tps
