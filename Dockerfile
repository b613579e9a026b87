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
RUN mkdir /app/.cache && chown node:node /app/.cache
USER node
# Node's compile cache, filled here (scripts/warm-compile-cache.ts) and only read at run time: each
# role and `tps` command starts with its modules compiled and its TypeScript already stripped, in
# less CPU and about 12-25 MB less memory per process. Node names the cache folder after the user:
# the image's own (node), and root's too, as which the tools container runs a root host user's `bin/tps`.
ENV NODE_COMPILE_CACHE=/app/.cache/node-compile
RUN OTEL_SDK_DISABLED=true node --disable-warning=ExperimentalWarning scripts/warm-compile-cache.ts \
 && node --disable-warning=ExperimentalWarning cli/main.ts --help > /dev/null \
 && cd /app/.cache/node-compile && for d in *-"$(id -u)"; do ln -s "$d" "${d%-*}-0"; done
# bin/tps is the same launcher as natively: `tps run <role>` preloads telemetry with --import.
ENTRYPOINT ["/usr/bin/tini", "--", "/app/bin/tps"]
CMD ["--help"]
