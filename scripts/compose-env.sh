#!/usr/bin/env bash
# `make compose-env`: writes .env for docker compose with a random password for every NATS user
# and the Grafana admin password (tps-lab unless GRAFANA_ADMIN_PASSWORD is set). Without a .env
# the stack runs with the documented lab passwords (tps-lab-<user>); with one, compose reads it
# from then on. An existing .env is never overwritten: keys it lacks (an .env from an older
# version) are added, the rest is kept. The file is private (0600) and ignored by git.
# ADMIN=1 (`make compose-env ADMIN=1`) also turns the admin API on for the console's actions: a
# random ADMIN_TOKEN and docker-compose.admin.yml in COMPOSE_FILE. NATS=cluster runs NATS as three
# nodes (docker-compose.cluster.yml in COMPOSE_FILE); their routes' password is NATS_PASSWORD_ROUTE.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
env_file="$root/.env"
. "$root/scripts/contract.sh"   # TPS_NATS_USERS (generated from platform/nats/permissions.ts)
users=$TPS_NATS_USERS
secret() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }
umask 077

admin=${ADMIN:-0}
case "$admin" in 0|1) ;; *) echo "compose-env: ADMIN must be 1 (turn the admin API on) or 0, got '$admin'" >&2; exit 2 ;; esac
nats=${NATS:-single}
case "$nats" in single|cluster) ;; *) echo "compose-env: NATS must be cluster (three nodes) or single, got '$nats'" >&2; exit 2 ;; esac
# The compose files every docker-compose command reads (COMPOSE_FILE), and the overrides chosen.
overrides=()
[ "$admin" = 1 ] && overrides+=(docker-compose.admin.yml)
[ "$nats" = cluster ] && overrides+=(docker-compose.cluster.yml)
files=docker-compose.yml
for o in "${overrides[@]}"; do files="$files:$o"; done
notes() {
  [ "$admin" = 1 ] && echo "compose-env: the admin API is on: sign in on the console (http://localhost:8090) with ADMIN_TOKEN from $env_file"
  [ "$nats" = cluster ] && echo "compose-env: NATS runs as three nodes (nats, nats-2, nats-3) with three copies of every stream; \`docker-compose down -v\` first if the stack ran with one (its store holds one copy)"
  [ ${#overrides[@]} -gt 0 ] && echo "compose-env: docker-compose reads COMPOSE_FILE=$files from $env_file (\`docker-compose up -d\` applies it)"
  return 0
}

if [ ! -f "$env_file" ]; then
  {
    echo "# TPS Lab compose credentials, generated $(date -u +%Y-%m-%dT%H:%M:%SZ) by make compose-env. Keep private."
    for user in $users; do echo "NATS_PASSWORD_$user=$(secret)"; done
    echo "NATS_PASSWORD_ROUTE=$(secret)"
    echo "GRAFANA_ADMIN_PASSWORD=${GRAFANA_ADMIN_PASSWORD:-tps-lab}"
    [ "$admin" = 1 ] && echo "ADMIN_TOKEN=$(secret)$(secret)"
    [ ${#overrides[@]} -gt 0 ] && echo "COMPOSE_FILE=$files"
  } > "$env_file"
  echo "compose-env: wrote $env_file: random NATS passwords, Grafana admin / ${GRAFANA_ADMIN_PASSWORD:-tps-lab}"
  notes
  echo "compose-env: a running stack keeps its old passwords until \`docker-compose up -d\` recreates it"
  exit 0
fi

added=()
has() { grep -q "^$1=" "$env_file"; }
for user in $users; do
  has "NATS_PASSWORD_$user" || { echo "NATS_PASSWORD_$user=$(secret)" >> "$env_file"; added+=("NATS_PASSWORD_$user"); }
done
has NATS_PASSWORD_ROUTE || { echo "NATS_PASSWORD_ROUTE=$(secret)" >> "$env_file"; added+=(NATS_PASSWORD_ROUTE); }
has GRAFANA_ADMIN_PASSWORD || { echo "GRAFANA_ADMIN_PASSWORD=${GRAFANA_ADMIN_PASSWORD:-tps-lab}" >> "$env_file"; added+=(GRAFANA_ADMIN_PASSWORD); }
if [ "$admin" = 1 ]; then
  has ADMIN_TOKEN || { echo "ADMIN_TOKEN=$(secret)$(secret)" >> "$env_file"; added+=(ADMIN_TOKEN); }
fi
if [ ${#overrides[@]} -gt 0 ]; then
  has COMPOSE_FILE || { echo "COMPOSE_FILE=$files" >> "$env_file"; added+=(COMPOSE_FILE); }
  for o in "${overrides[@]}"; do
    grep -q "^COMPOSE_FILE=.*$o" "$env_file" || echo "compose-env: COMPOSE_FILE in $env_file does not name $o; add it (files separated by :)" >&2
  done
fi
chmod 600 "$env_file"
if [ ${#added[@]} -eq 0 ]; then
  echo "compose-env: $env_file is complete; leaving it as it is (delete it to generate new credentials)"
else
  echo "compose-env: added to $env_file what it lacked: ${added[*]} (the rest is unchanged)"
fi
notes
"$root/scripts/compose.sh" check-env
