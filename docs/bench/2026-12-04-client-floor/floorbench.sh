#!/bin/bash
# floorbench.sh LABEL: one full s3bench run against a fresh s3-floor (copied to /tmp/pw/s3-floor
# from $CARGO_TARGET_DIR/release), as ../2026-12-03-sole-voter-reads/bench.sh does for coffer
L=$1; cd /tmp/pw
setsid /tmp/pw/s3-floor --address 127.0.0.1:9300 > floor.log 2>&1 & echo $! > floor.pid; sleep 0.5
unset AWS_CA_BUNDLE
rm -rf /tmp/pw/work; mkdir -p /tmp/pw/work
/work/shared/tools/s3bench.sh --endpoint http://127.0.0.1:9300 --access-key x --secret-key y --bucket bench --create-bucket --label $L --out /tmp/pw/$L.json --workdir /tmp/pw/work --server-pids $(cat floor.pid) ${TESTS:+--tests $TESTS} > /tmp/pw/$L.log 2>&1
echo rc=$?
kill $(cat floor.pid)
