#!/usr/bin/env bash
# The images `make test-compose` needs, built inside the test's own Docker engine (DOCKER_HOST set
# by tests/docker/engine.sh env). No registry can be reached here, so the third-party images are
# stand-ins built from a Debian bookworm minbase (debootstrap, cached in ~/.cache/tps-lab/docker/) and tagged
# with the exact names docker-compose.yml and the Dockerfile use; our own image is built from the
# real Dockerfile, unchanged.
#   tests/docker/images.sh base | standins | project | all
# Stand-ins take no network (--network none); only our image's build reaches the npm registry and
# Debian, through the host's network as `npm ci` on the host does (--network host).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/tests/docker/standins"
# One cache per machine, not per checkout: a clean clone (CI) reuses the base image and the layers.
cache=${TPS_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tps-lab/docker}
base_tar="$cache/bookworm-minbase.tar"
base_image=tps-standin/bookworm:minbase
say() { echo "images: $*" >&2; }

# The names to stand in for, read from the files that use them.
image_of() { grep -oE "image: $1:[^ ]+" "$root/docker-compose.yml" | head -n1 | cut -d' ' -f2; }
node_image=$(sed -n 's/^FROM \(node:[^ ]*\).*/\1/p' "$root/Dockerfile" | head -n1)
project_image=$(grep -oE 'image: tps-lab:[^ ]+' "$root/docker-compose.yml" | head -n1 | cut -d' ' -f2)

base() {
  if [ ! -s "$base_tar" ]; then
    say "debootstrap --variant=minbase bookworm (about 40 s, once; cached in ${base_tar#$root/})"
    local dir
    dir=$(mktemp -d "$cache/rootfs.XXXXXX")
    debootstrap --variant=minbase --include=wget bookworm "$dir" http://deb.debian.org/debian > "$cache/debootstrap.log" 2>&1 ||
      { say "debootstrap failed; see $cache/debootstrap.log"; rm -rf "$dir"; exit 1; }
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar -C "$dir" -cf "$base_tar.tmp" . && mv "$base_tar.tmp" "$base_tar"
    rm -rf "$dir"
  fi
  docker image inspect "$base_image" >/dev/null 2>&1 || docker import "$base_tar" "$base_image" >/dev/null
  say "base $base_image ready"
}

build_standin() { # name dockerfile context-dir
  docker build -q --force-rm --network none -t "$1" -f "$here/$2" "$3" >/dev/null
  say "stand-in $1 built"
}

standins() {
  local ctx
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' RETURN
  local node_bin="$root/.tools/node24/node_modules/node/bin/node"
  [ -x "$node_bin" ] || { say "no Node 24 in .tools/ (scripts/bootstrap.sh installs it)"; exit 1; }
  mkdir -p "$ctx/node" "$ctx/nats" "$ctx/prometheus" "$ctx/alertmanager" "$ctx/jaeger"
  cp "$node_bin" "$ctx/node/node"
  # npm itself is JavaScript: the host's copy (the official image ships one with Node too).
  cp -r "$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)" "$ctx/node/npm"
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/node/"
  build_standin "$node_image" node.Dockerfile "$ctx/node"
  cp "$(command -v nats-server || echo /usr/sbin/nats-server)" "$here/nats-entrypoint.sh" "$ctx/nats/"
  build_standin "$(image_of nats)" nats.Dockerfile "$ctx/nats"
  cp "$(command -v prometheus)" "$(command -v promtool)" "$ctx/prometheus/"
  build_standin "$(image_of prom/prometheus)" prometheus.Dockerfile "$ctx/prometheus"
  cp "$(command -v prometheus-alertmanager || echo /usr/bin/prometheus-alertmanager)" "$ctx/alertmanager/alertmanager"
  cp "$(command -v amtool || echo /usr/bin/amtool)" /usr/share/prometheus/alertmanager/*.tmpl "$ctx/alertmanager/"
  build_standin "$(image_of prom/alertmanager)" alertmanager.Dockerfile "$ctx/alertmanager"
  cp "$here/jaeger-standin.ts" "$ctx/jaeger/"
  cp "$root/platform/telemetry/otlp-protobuf.ts" "$root/platform/telemetry/protobuf-reader.ts" "$ctx/jaeger/"
  build_standin "$(image_of jaegertracing/jaeger)" jaeger.Dockerfile "$ctx/jaeger"
}

project() {
  say "building $project_image from the project's Dockerfile (npm ci and apt-get through the host's network)"
  docker build -q --force-rm --network host -t "$project_image" "$root" >/dev/null
  say "$project_image built"
}

case "${1:-all}" in
  base) base ;;
  standins) standins ;;
  project) project ;;
  all) base; standins; project ;;
  *) echo "usage: tests/docker/images.sh base|standins|project|all" >&2; exit 2 ;;
esac
