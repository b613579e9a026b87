#!/bin/sh
# As the official nats image's docker-entrypoint.sh: `-c file` means `nats-server -c file`.
set -e
if [ "${1#-}" != "$1" ]; then set -- nats-server "$@"; fi
exec "$@"
