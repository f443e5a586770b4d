#!/usr/bin/env bash
# The docker-compose cluster without Docker: a redis-server, N Gavel replicas as processes and Debian's nginx with
# the same deploy/nginx/gavel.conf.template, all on loopback.
#
#   deploy/local/cluster.sh up       start whatever is not running (again: restarts a replica that was stopped)
#   deploy/local/cluster.sh status   what runs, with PIDs and readiness
#   deploy/local/cluster.sh down     stop exactly what `up` started, by the PIDs it wrote
#
# Settings (environment): GAVEL_REPLICAS (3), GAVEL_LB_PORT (8080, nginx), GAVEL_BASE_PORT (8081: replica i
# listens on BASE+i), GAVEL_MANAGEMENT_BASE_PORT (9091: replica i serves /metrics and the probes on BASE+i, its
# MANAGEMENT_PORT, which nginx does not route), GAVEL_REDIS_PORT (6390), GAVEL_STATE_DIR (deploy/local/state: pid
# files, logs, nginx.conf), GAVEL_JAR (modules/server/target/gavel.jar), GAVEL_JAVA_OPTS (-Xmx256m: after the shipped
# deploy/jvm.options, which every replica runs with, as the README's command and the image do). Every other
# variable the node knows (NODE_TTL_MS, ADMIN_TOKEN, ...) passes through to the replicas; NODE_ID is gavel-<i>,
# REDIS_URL the local Redis, and TRUSTED_PROXIES, unless set, 127.0.0.1: nginx, which names each client in
# X-Forwarded-For, so that the per-address limits apply per client and not to everybody behind nginx at once.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
replicas="${GAVEL_REPLICAS:-3}"
lb_port="${GAVEL_LB_PORT:-8080}"
base_port="${GAVEL_BASE_PORT:-8081}"
management_base_port="${GAVEL_MANAGEMENT_BASE_PORT:-9091}"
trusted_proxies="${TRUSTED_PROXIES:-127.0.0.1}"
redis_port="${GAVEL_REDIS_PORT:-6390}"
state="${GAVEL_STATE_DIR:-$root/deploy/local/state}"
jar="${GAVEL_JAR:-$root/modules/server/target/gavel.jar}"
java_opts="${GAVEL_JAVA_OPTS:--Xmx256m}"
template="$root/deploy/nginx/gavel.conf.template"

running() { # pid file -> true when the process it names is alive
  [ -f "$1" ] || return 1
  local pid state
  pid="$(cat "$1")"
  kill -0 "$pid" 2>/dev/null || return 1
  # A killed process that its parent (here: whoever adopted it) has not reaped yet is a zombie, which kill -0 still
  # finds: it is not running, and a replica killed with kill -9 must be started again.
  state="$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)"
  [ -n "$state" ] && [ "$state" != Z ]
}

wait_for() { # seconds, description, command...
  local deadline=$((SECONDS + $1)) what="$2"
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "cluster: $what did not come up; logs in $state" >&2
      return 1
    fi
    sleep 0.2
  done
}

http_ok() { # port path -> true on a 200 within 5 s
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
  local line=""
  # bounded: a connection that is accepted and never answered (a process starting, or stopped) must not hang `up`
  read -r -t 5 line <&3 || true
  exec 3>&-
  [[ "$line" == *" 200 "* ]]
}

http_answer() { # port path -> the whole answer, on one line (for a message)
  exec 3<>"/dev/tcp/127.0.0.1/$1" || { echo "no answer"; return 0; }
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
  timeout 5 cat <&3 | tr -d '\r' | tr '\n' ' '
  exec 3>&-
}

redis_up() {
  if running "$state/redis.pid"; then return; fi
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$state" \
    >"$state/redis.log" 2>&1 &
  echo $! >"$state/redis.pid"
  wait_for 20 "redis-server" redis-cli -p "$redis_port" ping
}

replica_up() { # index
  local i="$1" port=$((base_port + $1)) management=$((management_base_port + $1))
  if running "$state/gavel-$i.pid"; then return; fi
  PORT="$port" MANAGEMENT_PORT="$management" TRUSTED_PROXIES="$trusted_proxies" NODE_ID="gavel-$i" \
    REDIS_URL="redis://127.0.0.1:$redis_port" \
    java @"$root/deploy/jvm.options" $java_opts -jar "$jar" >>"$state/gavel-$i.log" 2>&1 &
  echo $! >"$state/gavel-$i.pid"
}

nginx_up() {
  local servers="" upstreams="" map="" i port
  for ((i = 0; i < replicas; i++)); do
    port=$((base_port + i))
    servers+="server 127.0.0.1:$port max_fails=0; "
    upstreams+="upstream gavel_node_$i { server 127.0.0.1:$port; } "
    map+="gavel-$i gavel_node_$i; "
  done
  GAVEL_LISTEN="127.0.0.1:$lb_port" GAVEL_SERVERS="$servers" GAVEL_NODE_UPSTREAMS="$upstreams" GAVEL_NODE_MAP="$map" \
    envsubst '${GAVEL_LISTEN} ${GAVEL_SERVERS} ${GAVEL_NODE_UPSTREAMS} ${GAVEL_NODE_MAP}' <"$template" >"$state/gavel.conf"
  if running "$state/nginx.pid"; then return; fi
  mkdir -p "$state/nginx"
  cat >"$state/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $state/nginx/nginx.pid;
error_log $state/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $state/nginx/body;
    proxy_temp_path $state/nginx/proxy;
    fastcgi_temp_path $state/nginx/fastcgi;
    uwsgi_temp_path $state/nginx/uwsgi;
    scgi_temp_path $state/nginx/scgi;
    include $state/gavel.conf;
}
CONF
  "$(command -v nginx || echo /usr/sbin/nginx)" -p "$state/nginx" -c "$state/nginx.conf" >"$state/nginx/stdout.log" 2>&1 &
  echo $! >"$state/nginx.pid"
  wait_for 20 "nginx" http_ok "$lb_port" /lb/health
}

up() {
  [ -f "$jar" ] || { echo "cluster: no $jar: build it with 'mvn -B -q package -DskipTests'" >&2; exit 1; }
  mkdir -p "$state"
  redis_up
  local i
  for ((i = 0; i < replicas; i++)); do replica_up "$i"; done
  for ((i = 0; i < replicas; i++)); do
    wait_for 60 "gavel-$i (port $((base_port + i)))" http_ok $((management_base_port + i)) /health/ready \
      || { echo "cluster: gavel-$i says: $(http_answer $((management_base_port + i)) /health/ready)" >&2; return 1; }
  done
  nginx_up
  echo "cluster: $replicas replicas behind http://127.0.0.1:$lb_port; /metrics on 127.0.0.1:$management_base_port.. (one per replica)"
}

stop() { # name: SIGTERM, then SIGKILL after 15 s; removes the pid file
  local file="$state/$1.pid" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    local deadline=$((SECONDS + 15))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$file"
}

down() {
  local i
  stop nginx
  for ((i = 0; i < replicas; i++)); do stop "gavel-$i"; done
  stop redis
  echo "cluster: down"
}

status() {
  local name i all=0
  for name in redis $(for ((i = 0; i < replicas; i++)); do echo "gavel-$i"; done) nginx; do
    if running "$state/$name.pid"; then
      local extra=""
      if [[ "$name" == gavel-* ]]; then
        i="${name#gavel-}"
        if http_ok $((management_base_port + i)) /health/ready; then extra=" ready"; else extra=" not ready"; fi
      fi
      echo "$name: running, pid $(cat "$state/$name.pid")$extra"
    else
      echo "$name: stopped"
      all=1
    fi
  done
  return "$all"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
