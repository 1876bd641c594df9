#!/bin/bash
# bench.sh BIN LABEL: one full s3bench run on a fresh server
BIN=$1; L=$2
/tmp/pw/srv.sh stop 2>/dev/null; sleep 0.5
BIN=$BIN /tmp/pw/srv.sh start
unset AWS_CA_BUNDLE
rm -rf /tmp/pw/work; mkdir -p /tmp/pw/work
/work/shared/tools/s3bench.sh --endpoint http://127.0.0.1:9100 --access-key benchkey --secret-key benchsecret123456 --bucket bench --create-bucket --label $L --out /tmp/pw/$L.json --workdir /tmp/pw/work --server-pids $(cat /tmp/pw/pid) ${TESTS:+--tests $TESTS} > /tmp/pw/$L.log 2>&1
echo rc=$?
/tmp/pw/srv.sh stop
