#!/usr/bin/env bash
# Partition test on containers: six nodes (4+2, five Raft voters) and two gateways from
# compose.yaml. Cuts node 3, a voter, off from the five others (it keeps only the "side"
# network, shared with gateway b), checks that the majority side keeps accepting writes and
# the minority side none, heals the cut, and checks that both sides then list and read the
# same objects, byte for byte, and that every node agrees on the metadata. A boto3 load
# (load.py) PUTs and GETs through the majority's gateway all along: it must see no wrong
# bytes, get writes acknowledged during the cut, and every object it was acknowledged must
# read back through both gateways afterwards.
#
#   deploy/docker/cluster-test.sh        (builds the image first; needs the aws CLI and boto3)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
project="coffer-parttest-$$"
export COFFER_CLUSTER_SECRET="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export COFFER_ACCESS_KEY_ID=parttest COFFER_SECRET_ACCESS_KEY="parttest-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export COFFER_S3_PORT="${COFFER_S3_PORT:-9810}" COFFER_S3_PORT_B="${COFFER_S3_PORT_B:-9811}"
export COFFER_WRITE_QUORUM=k COFFER_SCRUB_INTERVAL=2
export AWS_ACCESS_KEY_ID="$COFFER_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$COFFER_SECRET_ACCESS_KEY"
# Clients retry as the aws CLI does by default (3 attempts); its read timeout is 20 s.
export AWS_DEFAULT_REGION=us-east-1 AWS_MAX_ATTEMPTS=3
compose() { docker-compose -f "$here/compose.yaml" -p "$project" "$@"; }
work="$(mktemp -d)"
cleanup() { [[ -n "${COFFER_TEST_KEEP:-}" ]] || compose down -v >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

pass=0 fail=0
check() {  # check NAME CMD...
  local name="$1"; shift
  if "$@" >"$work/out" 2>&1; then echo "ok   $name"; pass=$((pass + 1))
  else
    echo "FAIL $name"; sed 's/^/     | /' "$work/out" | tail -5; fail=$((fail + 1))
    compose logs --no-color --tail 1000 2>/dev/null | grep -E "ERROR|WARN" | grep -v "openraft\|balance: node unreachable\|delete queue" | tail -8 | sed 's/^/     log| /'
  fi
}
refused() { ! "$@"; }
A=(aws --endpoint-url "http://127.0.0.1:$COFFER_S3_PORT" --cli-read-timeout 20)
B=(aws --endpoint-url "http://127.0.0.1:$COFFER_S3_PORT_B" --cli-read-timeout 20)
wait_s3() {
  for _ in $(seq 150); do "$@" s3 ls >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}

"$here/build-image.sh"
# Nodes 1-3 first, so that node 3 is one of the voters (the first three all are; nodes 4-6
# join as learners and two of them are promoted).
compose up -d node1 node2 node3 >/dev/null 2>&1
sleep 3
compose up -d >/dev/null 2>&1
admin() { docker exec "$(compose ps -q node1)" /usr/local/bin/coffer admin --node 127.0.0.1:9200 "$@"; }
six_in() {
  for _ in $(seq 150); do
    admin --json cluster status > "$work/status" 2>/dev/null \
      && [[ "$(grep -c '"role": "voter"' "$work/status")" == 5 ]] && return 0
    sleep 0.2
  done
  cat "$work/status"; return 1
}
check "six nodes in, five voters" six_in
node3_voter() {
  admin --json cluster status | python3 -c 'import json, sys
s = json.load(sys.stdin)
assert [n["role"] for n in s["nodes"] if n["id"] == 3] == ["voter"], s'
}
check "node 3 is a voter" node3_voter
check "gateway a serves S3" wait_s3 "${A[@]}"
check "gateway b serves S3" wait_s3 "${B[@]}"
check "create bucket" "${A[@]}" s3 mb s3://part
for i in 1 2 3; do head -c $((3 * 1048576 + i)) /dev/urandom > "$work/before$i"; done
for i in 1 2 3; do check "PUT before the cut ($i)" "${A[@]}" s3 cp --only-show-errors "$work/before$i" "s3://part/before$i"; done

# A continuous PUT/GET load through gateway a (boto3), from before the cut until after it heals.
python3 "$here/load.py" "http://127.0.0.1:$COFFER_S3_PORT" part "$work/stop" "$work/load.json" &
load_pid=$!
sleep 3

node3="$(compose ps -q node3)"
main_net="$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$node3" | tr ' ' '\n' | grep '_main$')"
docker network disconnect "$main_net" "$node3"
cut_at=$(date +%s.%N)
echo "-- node 3 cut off from the five other nodes"
# Time for the majority to elect a leader and for gateway a to notice node 3 is gone.
sleep 5
head -c 2500000 /dev/urandom > "$work/during"
head -c 1000 /dev/urandom > "$work/small"
check "majority: large PUT accepted" "${A[@]}" s3 cp --only-show-errors "$work/during" s3://part/during
check "majority: small PUT accepted" "${A[@]}" s3 cp --only-show-errors "$work/small" s3://part/small
check "majority: reads every object" bash -c "for o in before1 before2 before3 during small; do ${A[*]} s3 cp --only-show-errors s3://part/\$o $work/a-\$o || exit 1; done"
# One attempt, and a client that waits for the gateway's answer (no read timeout, no retries
# that abandon a request the gateway still works on): a PUT the gateway refused must never
# land, not even after the heal. (With the CLI's five attempts, one run in seven saw the
# refused key listed after the heal: see issue 34.)
minority_put() {
  local t0=$SECONDS
  AWS_MAX_ATTEMPTS=1 aws --endpoint-url "http://127.0.0.1:$COFFER_S3_PORT_B" --cli-read-timeout 90 \
    s3 cp --only-show-errors "$work/small" s3://part/minority 2> "$work/minority.err"
  local rc=$?
  echo "minority PUT answered in $((SECONDS - t0)) s: $(tr '\n' ' ' < "$work/minority.err" | cut -c1-200)" > "$work/minority.log"
  return $rc
}
check "minority: PUT refused" refused minority_put
sed 's/^/     /' "$work/minority.log"
check "minority: nothing written" refused "${A[@]}" s3api head-object --bucket part --key minority
# Keep the cut 30 s in all, so the load has time to see a new leader and write through it.
while (( $(date +%s) - ${cut_at%.*} < 30 )); do sleep 1; done

healed_at=$(date +%s.%N)
docker network connect "$main_net" "$node3"
echo "-- cut healed"
sleep 5
touch "$work/stop"
wait "$load_pid" || true
load_clean() {
  python3 - "$work/load.json" "$cut_at" "$healed_at" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
cut, healed = float(sys.argv[2]), float(sys.argv[3])
during = sum(1 for t in r["acked_at"].values() if cut < t < healed)
print(f"load: {r['puts']} PUTs acknowledged ({during} during the cut), {r['gets']} GETs, "
      f"{r['failed']} failed requests, {len(r['wrong'])} wrong reads")
assert not r["wrong"], r["wrong"]
assert during > 0, "no write acknowledged during the cut"
PY
}
check "load: the majority took writes during the cut, no read was ever wrong" load_clean
cat "$work/out" | sed 's/^/     /'
converge() {
  for _ in $(seq 100); do
    if "${B[@]}" s3 ls s3://part/ > "$work/lb" 2>/dev/null && "${A[@]}" s3 ls s3://part/ > "$work/la" 2>/dev/null \
       && [[ "$(awk '{print $3, $4}' "$work/la")" == "$(awk '{print $3, $4}' "$work/lb")" ]] && grep -q during "$work/lb"; then
      return 0
    fi
    sleep 0.3
  done
  diff "$work/la" "$work/lb"; return 1
}
check "both sides list the same objects" converge
check "minority side sees no write of its own" refused grep -q minority "$work/lb"
check "reads through node 3's side are byte-identical" bash -c "for o in before1 before2 before3 during small; do ${B[*]} s3 cp --only-show-errors s3://part/\$o $work/b-\$o && cmp $work/b-\$o $work/a-\$o || exit 1; done"
check "writes through node 3's side work again" "${B[@]}" s3 cp --only-show-errors "$work/small" s3://part/after
check "and are seen on the majority side" "${A[@]}" s3api head-object --bucket part --key after
same_log() {
  for _ in $(seq 100); do
    admin --json cluster status > "$work/status" 2>/dev/null && python3 - "$work/status" <<'PY' && return 0
import json, sys
s = json.load(open(sys.argv[1]))
applied = {n["id"]: (n["status"] or {}).get("raft", {}).get("last_applied") for n in s["nodes"]}
assert len(applied) == 6 and None not in applied.values() and len(set(applied.values())) == 1, applied
PY
    sleep 0.3
  done
  cat "$work/status"; return 1
}
check "all six nodes applied the same log" same_log
check "every object the load acknowledged reads back through gateway a" \
  python3 "$here/load.py" verify "http://127.0.0.1:$COFFER_S3_PORT" part "$work/load.json"
check "and through node 3's side" \
  python3 "$here/load.py" verify "http://127.0.0.1:$COFFER_S3_PORT_B" part "$work/load.json"
echo "cluster-test: $pass passed, $fail failed"
[[ $fail == 0 ]]
