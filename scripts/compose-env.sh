#!/usr/bin/env bash
# Writes .env for docker compose once: a random password for every NATS user and the Grafana
# admin password (the lab default `tps-lab` unless GRAFANA_ADMIN_PASSWORD is set). Never
# overwrites an existing .env; the file is private (0600) and ignored by git.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
env_file="$root/.env"
if [ -f "$env_file" ]; then
  echo "compose-env: $env_file exists; leaving it as it is (delete it to generate new credentials)"
  exit 0
fi
secret() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }
umask 077
{
  echo "# TPS Lab compose credentials, generated $(date -u +%Y-%m-%dT%H:%M:%SZ) by make compose-env. Keep private."
  for user in OPERATOR INGRESS WORKER_FAST WORKER_SLOW SERVICE AUTOSCALER; do
    echo "NATS_PASSWORD_$user=$(secret)"
  done
  echo "GRAFANA_ADMIN_PASSWORD=${GRAFANA_ADMIN_PASSWORD:-tps-lab}"
} > "$env_file"
echo "compose-env: wrote $env_file (Grafana: admin / ${GRAFANA_ADMIN_PASSWORD:-tps-lab})"
