# One image for every TPS Lab role (ingress, worker-fast, worker-slow, service-a/b/c, autoscaler)
# and for the `tps` command. Node 24 runs the TypeScript sources directly; no build step.

FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; optional native helpers that need a compiler are skipped.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24.21.0-bookworm-slim
# tini forwards signals and reaps zombies, so SIGTERM reaches Node and shutdown can drain.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0 \
    TPS_STATE_DIR=/tmp/tps
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --chown=root:root . .
USER node
# bin/tps is the same launcher as natively: `tps run <role>` preloads telemetry with --import.
ENTRYPOINT ["/usr/bin/tini", "--", "/app/bin/tps"]
CMD ["--help"]
