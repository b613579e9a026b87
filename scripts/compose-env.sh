#!/usr/bin/env bash
# `make compose-env`: writes .env for docker compose with a random password for every NATS user
# and the Grafana admin password (tps-lab unless GRAFANA_ADMIN_PASSWORD is set). Without a .env
# the stack runs with the documented lab passwords (tps-lab-<user>); with one, compose reads it
# from then on. An existing .env is never overwritten: keys it lacks (an .env from an older
# version) are added, the rest is kept. The file is private (0600) and ignored by git.
# ADMIN=1 (`make compose-env ADMIN=1`) also turns the admin API on for the console's actions: a
# random ADMIN_TOKEN and COMPOSE_FILE=docker-compose.yml:docker-compose.admin.yml.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
env_file="$root/.env"
. "$root/scripts/contract.sh"   # TPS_NATS_USERS (generated from platform/nats/permissions.ts)
users=$TPS_NATS_USERS
secret() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }
umask 077

admin=${ADMIN:-0}
case "$admin" in 0|1) ;; *) echo "compose-env: ADMIN must be 1 (turn the admin API on) or 0, got '$admin'" >&2; exit 2 ;; esac
admin_files=docker-compose.yml:docker-compose.admin.yml
admin_note() {
  echo "compose-env: the admin API is on: sign in on the console (http://localhost:8090) with ADMIN_TOKEN from $env_file;"
  echo "compose-env: docker-compose reads COMPOSE_FILE=$admin_files from it (\`docker-compose up -d\` applies it)"
}

if [ ! -f "$env_file" ]; then
  {
    echo "# TPS Lab compose credentials, generated $(date -u +%Y-%m-%dT%H:%M:%SZ) by make compose-env. Keep private."
    for user in $users; do echo "NATS_PASSWORD_$user=$(secret)"; done
    echo "GRAFANA_ADMIN_PASSWORD=${GRAFANA_ADMIN_PASSWORD:-tps-lab}"
    if [ "$admin" = 1 ]; then echo "ADMIN_TOKEN=$(secret)$(secret)"; echo "COMPOSE_FILE=$admin_files"; fi
  } > "$env_file"
  echo "compose-env: wrote $env_file: random NATS passwords, Grafana admin / ${GRAFANA_ADMIN_PASSWORD:-tps-lab}"
  [ "$admin" = 1 ] && admin_note
  echo "compose-env: a running stack keeps its old passwords until \`docker-compose up -d\` recreates it"
  exit 0
fi

added=()
has() { grep -q "^$1=" "$env_file"; }
for user in $users; do
  has "NATS_PASSWORD_$user" || { echo "NATS_PASSWORD_$user=$(secret)" >> "$env_file"; added+=("NATS_PASSWORD_$user"); }
done
has GRAFANA_ADMIN_PASSWORD || { echo "GRAFANA_ADMIN_PASSWORD=${GRAFANA_ADMIN_PASSWORD:-tps-lab}" >> "$env_file"; added+=(GRAFANA_ADMIN_PASSWORD); }
if [ "$admin" = 1 ]; then
  has ADMIN_TOKEN || { echo "ADMIN_TOKEN=$(secret)$(secret)" >> "$env_file"; added+=(ADMIN_TOKEN); }
  has COMPOSE_FILE || { echo "COMPOSE_FILE=$admin_files" >> "$env_file"; added+=(COMPOSE_FILE); }
  grep -q "^COMPOSE_FILE=.*docker-compose.admin.yml" "$env_file" || echo "compose-env: COMPOSE_FILE in $env_file does not name docker-compose.admin.yml; add it (files separated by :) for the admin API" >&2
fi
chmod 600 "$env_file"
if [ ${#added[@]} -eq 0 ]; then
  echo "compose-env: $env_file is complete; leaving it as it is (delete it to generate new credentials)"
else
  echo "compose-env: added to $env_file what it lacked: ${added[*]} (the rest is unchanged)"
fi
[ "$admin" = 1 ] && admin_note
"$root/scripts/compose.sh" check-env
