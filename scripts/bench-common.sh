# Shared by scripts/bench-serve, scripts/bench-postgres and scripts/bench-startup (sourced, not
# run): the workspace, wrk, the message load, starting and stopping servers, the CPU they use
# and the figures printed. The sourcing script sets WORK (a temporary folder it removes), and
# for the load DURATION, CONVERSATIONS, THREADS and TOKEN.
# shellcheck shell=bash

# The example workspace, copied to $WORK/scenarios, with the `support` schedule closed
# yesterday, today and tomorrow (UTC dates, so Paris's too): the load's account runs
# after_hours, which hands a contact to an advisor while Support is open and only outside its
# hours greets, asks, arms a timeout and ends. Without this the load, and every figure, would
# depend on the hour the bench runs. CACHE_MB=N sets `store.cache_mb`.
bench_workspace() {
  cp -r scenarios "$WORK/scenarios"
  local config="$WORK/scenarios/scenarist.yaml" days
  days="$(date -u -d yesterday +%F), $(date -u +%F), $(date -u -d tomorrow +%F)"
  sed -i "s/^    closed: \[.*\]\$/    closed: [$days]/" "$config"
  grep -q "closed: \[$days\]" "$config" \
    || { echo "error: the example config's support schedule moved" >&2; exit 1; }
  if [ -n "${CACHE_MB:-}" ]; then
    sed -i "s/^  cache_mb: .*/  cache_mb: $CACHE_MB/" "$config"
    grep -q "^  cache_mb: $CACHE_MB\$" "$config" \
      || { echo "error: the example config's cache_mb moved" >&2; exit 1; }
  fi
}

# wrk, installed with apt-get when missing.
bench_need_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing wrk..." >&2
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }
  else
    echo "error: wrk is missing (apt-get install wrk)" >&2
    exit 1
  fi
}

# The load, in $WORK/messages.lua: one unique message id per request; request n goes to
# conversation n % CONVERSATIONS and says "Hi" or "No, thanks" in turn. BENCH_NODES="HOST:PORT
# HOST:PORT..." sends each wrk thread's connections to one of those servers in turn (wrk's
# own URL then only names the first), so THREADS should be a multiple of their number.
bench_write_lua() {
  cat >"$WORK/messages.lua" <<'LUA'
local threads = {}
local nodes = nil
function setup(thread)
  if nodes == nil then
    nodes = {}
    for host, port in string.gmatch(os.getenv("BENCH_NODES") or "", "([^%s:]+):(%d+)") do
      table.insert(nodes, wrk.lookup(host, port)[1])
    end
  end
  if #nodes > 0 then thread.addr = nodes[(#threads % #nodes) + 1] end
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  convs = tonumber(args[1])
  nthreads = tonumber(args[2])
  token = args[3]
  counter, dups, empty = 0, 0, 0
  wrk.method = "POST"
  wrk.path = "/v1/messages"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  local n = counter * nthreads + id
  counter = counter + 1
  local conv = n % convs
  local text = (math.floor(n / convs) % 2 == 0) and "Hi" or "No, thanks"
  local body = string.format(
    '{"account":"webchat:acme","conversation":"c-%d","message_id":"m-%d-%d",'
      .. '"contact":{"id":"u-%d","name":"Ada"},"text":"%s"}',
    conv, id, counter, conv, text)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if string.find(body, '"duplicate":true', 1, true) then dups = dups + 1 end
  if string.find(body, '"replies":[]', 1, true) then empty = empty + 1 end
end

function done(summary, latency, requests)
  local d, e = 0, 0
  for _, t in ipairs(threads) do
    d = d + t:get("dups")
    e = e + t:get("empty")
  end
  local errors = summary.errors
  local ok = summary.requests - errors.status
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d %d %d %d\n",
    ok / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout, d, e, ok))
end
LUA
}

SERVER_PIDS=()

# bench_start NAME READY_PREFIX CMD...: runs CMD in the background (output in $WORK/NAME.*),
# waits for the line naming its URL on stdout and sets SERVER_PID and URL.
bench_start() {
  local name="$1" prefix="$2"
  shift 2
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  SERVER_PID=$!
  SERVER_PIDS+=("$SERVER_PID")
  for _ in $(seq 200); do
    URL="$(sed -n "s|^$prefix||p" "$WORK/$name.out" | head -n1)"
    [ -n "$URL" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "error: $name did not start:" >&2
  cat "$WORK/$name.err" >&2
  exit 1
}

# bench_stop_all: SIGTERM to every server started, and waits for each.
bench_stop_all() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  SERVER_PIDS=()
}

# cpu_ticks PID...: user + system CPU time of these processes so far, in clock ticks.
cpu_ticks() {
  local pid total=0
  for pid in "$@"; do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}

# tree_ticks PID: the CPU of a process and of its children so far, those that ended included
# (the kernel adds them to the parent's cutime + cstime): PostgreSQL's postmaster and its
# backends, which come and go with connections.
tree_ticks() {
  # Fields counted after the command name's ")" (it may hold spaces): 2 ppid, 12-15 utime,
  # stime, cutime, cstime.
  # A process that ends while cat reads makes it fail (pipefail): what it read still counts.
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v p="$1" '{
      pid = $1
      line = $0
      sub(/^.*\) /, "", line)
      split(line, f, " ")
      if (pid == p) total += f[12] + f[13] + f[14] + f[15]
      else if (f[2] == p) total += f[12] + f[13]
    }
    END { print total + 0 }'
}

# bench_wrk CONNECTIONS URL: wrk's load on URL for DURATION; sets RESULT (its RESULT line's
# fields) and LOAD_CPU (wrk's CPU seconds).
bench_wrk() {
  local conns="$1" url="$2"
  TIMEFORMAT='%U %S'
  { time wrk -t"$THREADS" -c"$conns" -d"${DURATION}s" --timeout 10s \
    -s "$WORK/messages.lua" "$url" -- "$CONVERSATIONS" "$THREADS" "$TOKEN" \
    >"$WORK/wrk.out"; } 2>"$WORK/wrk.time"
  RESULT="$(grep '^RESULT' "$WORK/wrk.out" | cut -d' ' -f2-)"
  LOAD_CPU="$(awk '{print $1 + $2}' "$WORK/wrk.time")"
}

# bench_report LABEL CONNECTIONS LOAD_NAME [NAME TICKS]...: prints RESULT's figures and the
# CPU per message of each process named (the first gets CPU_GOAL after it) and of the load
# (LOAD_CPU seconds); sets RATE.
bench_report() {
  local label="$1" conns="$2" load="$3" hz cpu="" goal="${CPU_GOAL:-}"
  shift 3
  hz="$(getconf CLK_TCK)"
  # shellcheck disable=SC2086
  set -- "$@" $RESULT
  local -a named=()
  while [ $# -gt 8 ]; do
    named+=("$1" "$2")
    shift 2
  done
  RATE="$1"
  printf '%-34s %10s msg/s  p50 %7s ms  p99 %7s ms\n' "$label, $conns connections" "$1" "$2" "$3"
  printf '  %d answered 200, %d non-2xx, %d socket errors, %d duplicates, %d without replies\n' \
    "$8" "$4" "$5" "$6" "$7"
  local n="$8" i
  for ((i = 0; i < ${#named[@]}; i += 2)); do
    cpu+="$(awk -v name="${named[i]}" -v s="${named[i + 1]}" -v hz="$hz" -v n="$n" \
      -v d="$DURATION" -v goal="$goal" \
      'BEGIN { printf("%s %.1f us per message%s (%.2f cores); ", name,
                      n > 0 ? s / hz / n * 1e6 : 0, goal, s / hz / d) }')"
    goal=""
  done
  awk -v w="$LOAD_CPU" -v n="$n" -v d="$DURATION" -v cpu="$cpu" -v load="$load" \
    'BEGIN { printf("  CPU: %s%s %.1f us per request (%.2f cores)\n", cpu, load,
                    n > 0 ? w / n * 1e6 : 0, w / d) }'
}
