# Which TPS Lab stack runs from this checkout, and how to reach it. Sourced (POSIX sh) by bin/tps
# and the make scripts (chaos.sh, load.sh, compose.sh), so `make status`, `make chaos`,
# `make load`, `bin/tps status` ... act on whichever stack is running, without MODE=:
#   native   `make up` / `tps up` of this checkout: its supervisor (.tps/supervisor.json) is alive
#   compose  a `docker-compose up` / `docker compose up` of this checkout: a running container
#            labelled with this folder as its compose working directory
#   none     neither (the caller says how to start one)
# `stack_mode <choice>`: native|compose chooses explicitly (make passes its MODE, bin/tps its
# TPS_MODE; the generic MODE variable of other tools is never read), empty or auto detects.
# Needs: stack_root set to the checkout's absolute path before sourcing.

stack_state_dir() {
  _dir=${TPS_STATE_DIR:-.tps}
  case "$_dir" in /*) echo "$_dir" ;; *) echo "$stack_root/$_dir" ;; esac
}

# The native supervisor's pid when it is alive and starting or running: the process at that pid
# must still carry the supervisor's stamp (boot id and start time, operator/supervisor/process-stamp.ts),
# for after a reboot or a kill -9 the pid may name another program.
native_running() {
  _state="$(stack_state_dir)/supervisor.json"
  [ -r "$_state" ] || return 1
  _pid=$(sed -n 's/^  "pid": \([0-9]*\),$/\1/p' "$_state" | head -n1)
  grep -qE '^  "phase": "(running|starting)"' "$_state" || return 1
  [ -n "$_pid" ] && kill -0 "$_pid" 2>/dev/null || return 1
  _stamp=$(sed -n 's/^  "stamp": "\(.*\)",$/\1/p' "$_state" | head -n1)
  [ -n "$_stamp" ] && [ -r "/proc/$_pid/stat" ] && [ -r /proc/sys/kernel/random/boot_id ] || return 0
  [ "$(cat /proc/sys/kernel/random/boot_id):$(sed 's/.*) //' "/proc/$_pid/stat" | cut -d' ' -f20)" = "$_stamp" ]
}

# The compose command: $COMPOSE when set, else the v2 plugin, else v1's docker-compose.
compose_cmd() {
  if [ -n "${COMPOSE:-}" ]; then echo "$COMPOSE"; return 0; fi
  if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then echo "docker compose"; return 0; fi
  if command -v docker-compose >/dev/null 2>&1; then echo "docker-compose"; return 0; fi
  return 1
}

# The compose project (name) of this checkout's running stack; fails when none runs.
compose_project() {
  command -v docker >/dev/null 2>&1 || return 1
  _id=$(docker ps -q --filter "label=com.docker.compose.project.working_dir=$(cd "$stack_root" && pwd -P)" \
    --filter label=com.docker.compose.service=nats 2>/dev/null | head -n1)
  [ -n "$_id" ] || _id=$(docker ps -q --filter "label=com.docker.compose.project.working_dir=$stack_root" \
    --filter label=com.docker.compose.service=nats 2>/dev/null | head -n1)
  [ -n "$_id" ] || return 1
  docker inspect --format '{{ index .Config.Labels "com.docker.compose.project" }}' "$_id"
}

compose_running() { compose_project >/dev/null 2>&1; }

stack_mode() {
  case "${1:-}" in
    native|compose) echo "$1"; return 0 ;;
    ''|auto) ;;
    *) echo "unknown mode '$1': expected native or compose (or nothing, to find the running stack)" >&2; return 2 ;;
  esac
  if native_running; then echo native
  elif compose_running; then echo compose
  else echo none
  fi
}

stack_none_message() {
  cat >&2 <<EOF
TPS Lab is not running from this checkout ($stack_root).
Start it natively with \`make up\`, or with Docker with \`docker-compose up -d\` (or \`docker compose up -d\`);
see README.md. (A stack elsewhere: set NATS_URL, or pass --targets / --url.)
EOF
}

# Runs `tps <args>` in the compose stack's tools container, as the calling user, with
# .tps/compose/ as its state folder (ledgers survive the container) and .tps/labs/ for the lab
# results, which native mode shares.
compose_tps() {
  _compose=$(compose_cmd) || { echo "tps: neither \`docker compose\` nor \`docker-compose\` is installed" >&2; return 1; }
  _project=$(compose_project 2>/dev/null || true)
  mkdir -p "$stack_root/.tps/compose/history" "$stack_root/.tps/labs"
  _tty=-T
  if [ -t 0 ] && [ -t 1 ]; then _tty=; fi
  # A hand-off an earlier command left (its load failed) is not this command's to load: only one
  # this command wrote (a request.env that differs from the one before it ran) is loaded.
  _handoff_before=$(cat "$stack_root/.tps/compose/history/request.env" 2>/dev/null || true)
  compose_tools_run "$@" || return $?
  _history_status=0
  compose_load_history "$@" || _history_status=$?
  compose_proctor || return $?
  return "$_history_status"
}

# `tps <args>` with `docker exec` in the standing tools container (service `tools`), well under a
# second; when it does not run (a stack started with only some services), in a container of its
# own (`run --rm tps`, seconds: compose starts, creates, attaches and removes a container).
compose_tools_run() {
  _tools=$([ -n "$_project" ] && docker ps -q --filter "label=com.docker.compose.project=$_project" \
    --filter label=com.docker.compose.service=tools --filter status=running 2>/dev/null | head -n1)
  if [ -n "$_tools" ]; then compose_exec "$@"; return $?; fi
  # shellcheck disable=SC2086
  (cd "$stack_root" && TPS_UID=$(id -u) TPS_GID=$(id -g) \
    $_compose ${_project:+-p "$_project"} --profile tools run --rm --no-deps $_tty tps "$@")
}

# The command runs as the caller (-u), as `run` does with TPS_UID. With a terminal, Ctrl-C reaches
# it through the container's own terminal (-t). Without one, docker exec forwards no signal: the
# command keeps its pid in the container's /tmp (a tmpfs) under a name of this call's, and a
# signal this shell takes is sent to it there, so an interrupted `make load` stops, not runs on.
compose_exec() {
  _user="$(id -u):$(id -g)"
  if [ -z "$_tty" ]; then docker exec -it -u "$_user" "$_tools" /app/bin/tps "$@"; return $?; fi
  _token="$$-$(date +%s)"
  trap 'compose_exec_signal INT' INT
  trap 'compose_exec_signal TERM' TERM
  trap 'compose_exec_signal HUP' HUP
  # An asynchronous command's stdin would be /dev/null: the caller's is handed over as fd 3
  # (`command`: a closed stdin must not end this shell, as a failed `exec` redirection would).
  { command exec 3<&0; } 2>/dev/null || exec 3</dev/null
  # shellcheck disable=SC2016
  docker exec -i -u "$_user" "$_tools" sh -c '
    for f in /tmp/tps-exec.*; do [ -f "$f" ] && ! kill -0 "$(cat "$f")" 2>/dev/null && rm -f "$f" 2>/dev/null; done
    echo $$ > "/tmp/tps-exec.$0"; exec /app/bin/tps "$@"' "$_token" "$@" <&3 3<&- &
  _exec_pid=$!
  exec 3<&-
  # A trapped signal ends a wait early (status > 128): wait again while docker exec runs. Had it
  # ended just after such a wait, one more wait still has its status (else 127: it was had).
  wait "$_exec_pid"; _exec_status=$?
  while kill -0 "$_exec_pid" 2>/dev/null; do wait "$_exec_pid"; _exec_status=$?; done
  if [ "$_exec_status" -gt 128 ]; then
    wait "$_exec_pid"; _last=$?
    [ "$_last" = 127 ] || _exec_status=$_last
  fi
  trap - INT TERM HUP
  return "$_exec_status"
}

# The signal to the command in the container; it may not have written its pid yet.
compose_exec_signal() {
  # shellcheck disable=SC2016
  docker exec -u "$_user" "$_tools" sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do
      [ -f "/tmp/tps-exec.$0" ] && { kill -"$1" "$(cat "/tmp/tps-exec.$0")"; exit; }; sleep 0.2; done' \
    "$_token" "$1" >/dev/null 2>&1 || true
}

# An exam day's proctor (`tps exam 3 start`) outlives the tools container: a container of its own
# (service proctor, profile exam), started when the command asked for one (.tps/compose/proctor.want)
# and removed once `tps exam 3 stop` has ended it (proctor.done).
compose_proctor() {
  _state="$stack_root/.tps/compose"
  if [ -f "$_state/proctor.done" ]; then
    rm -f "$_state/proctor.done"
    (cd "$stack_root" && $_compose ${_project:+-p "$_project"} --profile exam rm -fsv proctor >/dev/null 2>&1) || true
  fi
  [ -f "$_state/proctor.want" ] || return 0
  _lab=$(head -n1 "$_state/proctor.want")
  rm -f "$_state/proctor.want"
  case "$_lab" in ''|*[!a-z0-9-]*) echo "tps: not a lab id in proctor.want: $_lab" >&2; return 1 ;; esac
  echo "exam: the day's proctor starts (container proctor; its log: docker compose logs proctor)"
  # shellcheck disable=SC2086
  (cd "$stack_root" && TPS_UID=$(id -u) TPS_GID=$(id -g) TPS_PROCTOR_LAB="$_lab" \
    $_compose ${_project:+-p "$_project"} --profile exam up -d --no-deps --force-recreate proctor >/dev/null) \
    || { echo "tps: the exam's proctor did not start: $_compose --profile exam up -d proctor" >&2; return 1; }
}

# A command that left a history in .tps/compose/history/ (`tps exam 2 start`, `tps lab start 3.5`): Prometheus' own
# image writes it into its volume (service prometheus-history, prometheus/load-history.sh), a
# restart of Prometheus loads it at once (rather than at its next block reload, up to a minute
# later); where the history asks for them (RULES=1), a tools container evaluates the recording
# rules over it against the restarted Prometheus (`tps exam history-rules`), Prometheus' image
# writes their series as blocks too, and a second restart loads them. The hand-off is removed after.
# On failure the files stay, to retry: scripts/compose.sh load-history.
compose_load_history() {
  _history="$stack_root/.tps/compose/history"
  [ -f "$_history/request.env" ] || return 0
  [ "$(cat "$_history/request.env")" != "${_handoff_before:-}" ] || return 0
  if ! compose_history_phase blocks || ! compose_restart_prometheus \
    || { grep -q '^RULES=1' "$_history/request.env" && ! { compose_history_rules && compose_history_phase rules && compose_restart_prometheus; }; } \
    || ! compose_history_phase ready; then
    # The tools container has started the lab: it runs on the live system alone until the load is retried.
    echo "tps: loading the history into Prometheus failed: the lab has started without it (on the live system alone). Retry the load: scripts/compose.sh load-history; or stop the lab: $(compose_stop_command "$@")" >&2
    return 1
  fi
  rm -f "$_history/request.env" "$_history/history.om" "$_history/rules.om"
}

# How to stop what `tps exam N start` or `tps lab start <lab>` started, as typed on the host.
compose_stop_command() {
  case "$1 ${2:-} ${3:-}" in
    "exam "*" start") echo "bin/tps exam $2 stop" ;;
    "lab start "*) echo "bin/tps lab stop $3" ;;
    *) echo "bin/tps lab stop <lab>" ;;
  esac
}

compose_history_phase() {
  # shellcheck disable=SC2086
  (cd "$stack_root" && $_compose ${_project:+-p "$_project"} --profile tools run --rm --no-deps -T -e PHASE="$1" prometheus-history)
}

compose_history_rules() {
  _tty=-T compose_tools_run exam history-rules
}

compose_restart_prometheus() {
  echo "history: restarting Prometheus to load it (a few seconds without scrapes)"
  # shellcheck disable=SC2086
  (cd "$stack_root" && $_compose ${_project:+-p "$_project"} restart prometheus >/dev/null 2>&1)
}
