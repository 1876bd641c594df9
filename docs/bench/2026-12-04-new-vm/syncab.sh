#!/bin/bash
# syncab.sh BIN LABEL: aws s3 sync of 2,000 x 4 KiB up, then the no-op re-sync, against a fresh server (EXTRA = server flags)
BIN=$1; L=$2; cd /tmp/pw
export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret123456 AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/tmp/pw/awscfg
unset AWS_CA_BUNDLE
./srv.sh stop 2>/dev/null; sleep 0.3; BIN=$BIN ./srv.sh start
aws --endpoint-url http://127.0.0.1:9100 s3 mb s3://bench > /dev/null
P=$(cat pid); cpu() { awk '{print $14+$15}' /proc/$P/stat; }
c0=$(cpu); t0=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o cli-$L.txt aws --endpoint-url http://127.0.0.1:9100 s3 sync --no-progress syncsrc s3://bench/sync > /dev/null
t1=$(date +%s.%N); c1=$(cpu)
aws --endpoint-url http://127.0.0.1:9100 s3 sync --no-progress syncsrc s3://bench/sync > /dev/null
t2=$(date +%s.%N)
python3 -c "print('$L sync %.2f s srv %.0f us/file cli %s | again %.2f s' % ($t1-$t0, ($c1-$c0)*10000/2000, '$(cat cli-$L.txt)', $t2-$t1))"
./srv.sh stop
