#!/usr/bin/env bash
# Runs scripts/demo on the emulator (after scripts/test's suites built everything), both ways.
# By default it must serve the face-check page on 127.0.0.1 and print its address, having
# built only the emulator and the Python wheel (the page itself is tested in Chromium by
# tests/web). With --transcripts, this checks the transcript and SQLite file: every step of the journey in each host's section, no secret
# anywhere (the emulator's default API secret, OAuth password and Basic credentials, and no
# access token in any audit record), and 12 audit records per host: one per request sent,
# the users API's own token request included.
#   bash demo/test_demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

dir=$(mktemp -d)
transcript="$dir/transcript.txt"

# The emulator, whatever the caller's environment says (no IPROOV_* of a real service).
UNSET_REAL=(-u IPROOV_REGION -u IPROOV_BASE_URL -u IPROOV_API_KEY -u IPROOV_SECRET
  -u IPROOV_OAUTH_USERNAME -u IPROOV_OAUTH_PASSWORD)

# descendants PID: the pids of PID's children, grandchildren, ... as they are now.
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1"); do
    echo "$child"
    descendants "$child"
  done
}

# refuses PORT: nothing accepts connections on 127.0.0.1:PORT any more.
refuses() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# gone PID...: each process has exited (a zombie awaiting its reaper counts as gone), polled
# for up to 30 s; prints those still there.
gone() {
  local pid left
  for _ in $(seq 1 300); do
    left=""
    for pid in "$@"; do
      if [ -e "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
        left="$left $pid"
      fi
    done
    [ -z "$left" ] && return 0
    sleep 0.1
  done
  for pid in $left; do echo "  $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"; done
  return 1
}

# Whatever happens below, every process this test started is stopped before its directory goes.
demo_pid=""
demo_tree=()
stop_all() {
  local pid
  for pid in $demo_pid "${demo_tree[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
  done
  [ -z "$demo_pid" ] || wait "$demo_pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap stop_all EXIT

# The default: the page. `env` execs scripts/demo, so $! is the demo's own shell (not a
# subshell around it) and the TERM below reaches the demo itself. Wait (at most 120 s) for
# its address, ask it for a token as the page does, then stop it as a kill would: its TERM
# trap exits 143 and its EXIT trap stops the page's server and the emulator.
web_log="$dir/web.txt"
env "${UNSET_REAL[@]}" IPROOV_DEMO_DIR="$dir/web" IPROOV_DEMO_PORT=0 scripts/demo >"$web_log" 2>&1 &
demo_pid=$!
url=""
for _ in $(seq 1 600); do
  url=$(sed -n 's|^open \(http://127\.0\.0\.1:[0-9]*/iproov/\)$|\1|p;T;q' "$web_log")
  [ -n "$url" ] && break
  kill -0 "$demo_pid" 2>/dev/null || break
  sleep 0.2
done
web_ok=""
emulator_url=$(sed -n 's|^    emulator on \(http://127\.0\.0\.1:[0-9]*\),.*|\1|p;T;q' "$web_log")
if [ -z "$url" ]; then
  echo "demo test: scripts/demo printed no address to open within 120 s" >&2
elif [ -z "$emulator_url" ]; then
  echo "demo test: scripts/demo printed no emulator address" >&2
elif target/py-venv/bin/python demo/check_web.py "$url" "$emulator_url"; then
  web_ok=1
else
  echo "demo test: the printed address did not serve the page and its routes" >&2
fi
# Its processes now (the page's server, the emulator, its stdout reader), to see them go.
mapfile -t demo_tree < <(descendants "$demo_pid")
emulator_port=$(sed -n 's|^    emulator on http://127\.0\.0\.1:\([0-9]*\),.*|\1|p;T;q' "$web_log")
kill -TERM "$demo_pid" 2>/dev/null || true
demo_status=0
wait "$demo_pid" || demo_status=$?
demo_pid=""
problems=()
[ -n "$web_ok" ] || problems+=("the page did not serve")
[ "$demo_status" -eq 143 ] || problems+=("exit $demo_status after TERM, not its TERM trap's 143")
[ "${#demo_tree[@]}" -ge 2 ] || problems+=("${#demo_tree[@]} processes under the demo, expected the page's server and the emulator at least")
if ! left=$(gone "${demo_tree[@]}"); then
  problems+=("processes it started outlived it:"$'\n'"$left")
fi
page_port=${url#http://127.0.0.1:}
page_port=${page_port%%/*}
[ -z "$page_port" ] || refuses "$page_port" || problems+=("the page's port $page_port still accepts connections")
[ -n "$emulator_port" ] || problems+=("it printed no emulator address")
[ -z "$emulator_port" ] || refuses "$emulator_port" || problems+=("the emulator's port $emulator_port still accepts connections")
if grep -qE '^==> (Node package|Edge package)' "$web_log"; then
  problems+=("it built more than the emulator and the wheel")
fi
if [ "${#problems[@]}" -gt 0 ]; then
  cat "$web_log" >&2
  printf 'demo test: scripts/demo (the page): %s\n' "${problems[@]}" >&2
  exit 1
fi
echo "demo test: the page served at $url, a token issued through it; TERM stopped the demo (143), its ${#demo_tree[@]} processes and both ports"

if ! env "${UNSET_REAL[@]}" IPROOV_DEMO_DIR="$dir/out" scripts/demo --transcripts >"$transcript" 2>&1; then
  cat "$transcript"
  echo "demo test: scripts/demo --transcripts failed" >&2
  exit 1
fi
# Its emulator stopped with it.
emulator_port=$(sed -n 's|^    emulator on http://127\.0\.0\.1:\([0-9]*\),.*|\1|p;T;q' "$transcript")
if [ -z "$emulator_port" ] || ! refuses "$emulator_port"; then
  echo "demo test: scripts/demo --transcripts left its emulator (port ${emulator_port:-not printed}) accepting connections" >&2
  exit 1
fi

failures=0
fail() {
  echo "demo test: $*" >&2
  failures=$((failures + 1))
}

# A host's section: from its "== <title>" banner to the next "==> " step.
section() {
  awk -v title="== $1" 'index($0, title) == 1 { on = 1 } on && /^==> / { exit } on { print }' "$transcript"
}

expect_in() {
  local host=$1 text=$2
  grep -qF -- "$text" "$dir/$host.txt" || fail "$host: the transcript lacks: $text"
}

for host in python node worker; do
  case $host in
    python) title="Python " ;;
    node) title="Node " ;;
    worker) title="Edge worker " ;;
  esac
  section "$title" >"$dir/$host.txt"
  if [ ! -s "$dir/$host.txt" ]; then
    fail "$host: no section headed '== $title'"
    continue
  fi
  expect_in $host "against the emulator"
  # enrol token, the emulator completes the claim, enrol validate
  expect_in $host "Enrol token: enrol attempt 1 of 3"
  expect_in $host "/eu/api/v2/claim/enrol/token"
  expect_in $host "The user's phone completes the capture: it passes"
  expect_in $host "here the emulator plays it"
  expect_in $host "Enrol validate: once for this token"
  expect_in $host "/eu/api/v2/claim/enrol/validate"
  expect_in $host "← passed: true (enrol, "
  expect_in $host "journey: enrolled on attempt 1 of 3"
  # verify token, a failed attempt, a new attempt with a new token, a passed verify
  expect_in $host "Verify token: verify attempt 1 of 3"
  expect_in $host "The user's phone completes the capture: it fails (too_much_movement)"
  expect_in $host "← passed: false, reason too_much_movement"
  expect_in $host "journey: attempt 1 of 3 failed: too_much_movement — attempt 2 of 3 starts with a new token"
  expect_in $host "Verify token: verify attempt 2 of 3, a new token"
  expect_in $host "← passed: true (verify, "
  expect_in $host "journey: verified on attempt 2 of 3"
  tokens=$({ grep -oE '← token [0-9a-f]{8}…[0-9a-f]{4}' "$dir/$host.txt" || [ $? = 1 ]; } | sort -u | wc -l)
  [ "$tokens" -eq 3 ] || fail "$host: expected 3 distinct claim tokens (enrol, two verify attempts), saw $tokens"
  # OAuth token then get user, suspend
  expect_in $host "OAuth access token (client credentials)"
  expect_in $host "Authorization: Basic [REDACTED]"
  expect_in $host "← Bearer token [never printed]"
  expect_in $host "Get user"
  expect_in $host "Authorization: Bearer [REDACTED]"
  expect_in $host ": active"
  expect_in $host "Suspend user"
  expect_in $host ": suspended"
  # the suspended user's verify token is refused
  expect_in $host "Verify token for the suspended user: refused"
  expect_in $host "← error inactive_user (400)"
  # the key against the wrong region, with its hint
  expect_in $host "The same key against the wrong region"
  expect_in $host "/us/api/v2/claim/verify/token"
  expect_in $host "← error invalid_key (401)"
  expect_in $host "A key used against the wrong region gives exactly this error"
  # every request is shown, redacted
  expect_in $host '"secret":"[REDACTED]"'
  requests=$(grep -c '    → ' "$dir/$host.txt" || [ $? = 1 ])   # grep's 1 is a count of 0
  [ "$requests" -eq 11 ] || fail "$host: expected 11 requests shown, saw $requests"
done

grep -qF "==> Audit records in SQLite" "$transcript" || fail "no audit section"
# Every client runs core's call driver, which also records the users API's own token request.
for host in python node worker; do
  grep -qF -- "-- $host: 12 audit records" "$transcript" || fail "the audit section lacks '-- $host: 12 audit records'"
done

# No secret in the transcript or the SQLite file (nor its WAL files, if any are left).
basic=$(printf '%s' 'eu-default-oauth:eu-default-oauth-password' | base64 | tr -d '\n')
for secret in eudefaultsecret0000000000000000000000000 eu-default-oauth-password "$basic"; do
  if grep -qaF -- "$secret" "$transcript"; then fail "a secret is in the transcript: $secret"; fi
  for file in "$dir/out"/audit.sqlite3*; do
    if grep -qaF -- "$secret" "$file"; then fail "a secret is in $(basename "$file"): $secret"; fi
  done
done

# The SQLite file: 12 records per host; core's records, without any access token.
if ! target/py-venv/bin/python - "$dir/out/audit.sqlite3" <<'EOF'; then
import json
import sqlite3
import sys

db = sqlite3.connect(sys.argv[1])
counts = dict(db.execute("SELECT host, count(*) FROM audit_records GROUP BY host"))
problems = []
if counts != {"python": 12, "node": 12, "worker": 12}:
    problems.append(f"expected 12 audit records per host, found {counts}")
for host, record in db.execute("SELECT host, record FROM audit_records"):
    record = json.loads(record)
    if "access_token" in json.dumps(record.get("result", {})):
        problems.append(f"{host}: an access token in the record of {record['operation']}")
expected = [
    "enrol_token:token_issued", "enrol_validate:passed", "verify_token:token_issued", "verify_validate:failed",
    "verify_token:token_issued", "verify_validate:passed", "access_token:token_obtained",
    # the client's own token request for the users API, before get_user
    "access_token:token_obtained", "get_user:ok",
    "suspend_user:ok", "verify_token:error", "verify_token:error",
]
for host in ("python", "node", "worker"):
    got = [r[0] for r in db.execute(
        "SELECT operation || ':' || outcome FROM audit_records WHERE host = ? ORDER BY id", (host,))]
    if got != expected:
        problems.append(f"{host}: records {got}")
for problem in problems:
    print(f"demo test: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
  fail "the SQLite file's records are not as expected"
fi

if [ "$failures" -gt 0 ]; then
  echo "--- transcript ---" >&2
  cat "$transcript" >&2
  echo "demo test: $failures check(s) failed" >&2
  exit 1
fi
echo "demo test: passed (the page; 3 hosts × 14 steps, 12 audit records each, no secret in the transcript or $(basename "$dir/out/audit.sqlite3"))"
