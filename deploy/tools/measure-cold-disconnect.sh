#!/usr/bin/env bash
# Measures a cold `disconnectbot disconnect` process: start, config from the
# environment, OAuth token, read the call, PATCH, confirm, exit. It runs the
# real binary (built like the Dockerfile, without version stamping) against
# the Genesys emulator in its own process on loopback, RUNS times, each on a
# fresh call, and reports wall time and maximum RSS per run.
#
#   deploy/tools/measure-cold-disconnect.sh            # 10 runs, disconnect takes effect at once
#   RUNS=20 DISCONNECT_DELAY=50ms deploy/tools/measure-cold-disconnect.sh
#
# DISCONNECT_DELAY is how long the emulator takes to drop the leg after its
# 202 (the real Genesys is asynchronous too); with a delay, the confirm poll
# (100 ms first interval) dominates. Needs GNU time (/usr/bin/time) for the
# RSS; on Debian/Ubuntu: apt-get install -y time. Not run by CI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

RUNS=${RUNS:-10}
DISCONNECT_DELAY=${DISCONNECT_DELAY:-0s}
TIME=${TIME:-/usr/bin/time}
if ! "$TIME" -f '%M' true >/dev/null 2>&1; then
	echo "GNU time not found at $TIME (apt-get install -y time)" >&2
	exit 1
fi

work=$(mktemp -d)
emu_pid=
cleanup() {
	if [ -n "$emu_pid" ]; then kill "$emu_pid" 2>/dev/null || true; wait "$emu_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

echo "building (CGO_ENABLED=0 -trimpath -s -w, as the Dockerfile)…" >&2
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/disconnectbot" ./cmd/disconnectbot
go build -o "$work/genesys-emulator" ./deploy/tools/genesys-emulator

"$work/genesys-emulator" -calls $((RUNS + 1)) -disconnect-delay "$DISCONNECT_DELAY" >"$work/emulator.out" &
emu_pid=$!
for _ in $(seq 200); do
	grep -qx ready "$work/emulator.out" 2>/dev/null && break
	sleep 0.05
done
grep -qx ready "$work/emulator.out" || { echo "the emulator did not start" >&2; exit 1; }

url=$(awk '$1 == "url" {print $2}' "$work/emulator.out")
mapfile -t convs < <(awk '$1 == "conversation" {print $2}' "$work/emulator.out")
export GENESYSCLOUD_OAUTHCLIENT_ID=$(awk '$1 == "client_id" {print $2}' "$work/emulator.out")
export GENESYSCLOUD_OAUTHCLIENT_SECRET=$(awk '$1 == "client_secret" {print $2}' "$work/emulator.out")
export DISCONNECTBOT_GENESYS_API_URL=$url DISCONNECTBOT_GENESYS_LOGIN_URL=$url

# One warm-up run (page cache, emulator's first connection), not counted.
"$work/disconnectbot" disconnect "${convs[0]}" --purpose customer --yes >/dev/null

printf '%-4s %10s %12s\n' run wall_ms max_rss_kib
walls=()
rsss=()
for i in $(seq 1 "$RUNS"); do
	start=$(date +%s%N)
	"$TIME" -f '%M' -o "$work/rss" "$work/disconnectbot" disconnect "${convs[$i]}" --purpose customer --yes >"$work/out" 2>&1 ||
		{ echo "run $i failed:" >&2; cat "$work/out" >&2; exit 1; }
	end=$(date +%s%N)
	grep -q '^Disconnected ' "$work/out" || { echo "run $i did not disconnect:" >&2; cat "$work/out" >&2; exit 1; }
	wall=$(( (end - start) / 1000 ))
	rss=$(tail -n1 "$work/rss")
	walls+=("$wall")
	rsss+=("$rss")
	awk -v i="$i" -v w="$wall" -v r="$rss" 'BEGIN { printf "%-4s %10.1f %12s\n", i, w / 1000, r }'
done

summary() { # name unit divisor values…
	local name=$1 div=$2
	shift 2
	printf '%s\n' "$@" | sort -n | awk -v name="$name" -v div="$div" '
		{ v[NR] = $1 / div; sum += $1 / div }
		END {
			med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%-12s min %8.1f  median %8.1f  mean %8.1f  max %8.1f\n", name, v[1], med, sum / NR, v[NR]
		}'
}
# Baseline: the same binary doing nothing but start and print its version.
base=()
for _ in $(seq 1 "$RUNS"); do
	start=$(date +%s%N)
	"$work/disconnectbot" version >/dev/null
	end=$(date +%s%N)
	base+=($(( (end - start) / 1000 )))
done

echo
echo "$RUNS cold runs, emulator disconnect delay $DISCONNECT_DELAY, $(nproc) CPUs, $(go env GOVERSION)"
summary "wall ms" 1000 "${walls[@]}"
summary "maxrss KiB" 1 "${rsss[@]}"
summary "version ms" 1000 "${base[@]}"
