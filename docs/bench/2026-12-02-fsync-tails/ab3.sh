#!/bin/bash
# ab3.sh BIN LABEL: wrk PUT c16 with strace -T on raft-log-sync: fdatasync tail
BIN=$1; L=$2
/tmp/pw/srv.sh stop 2>/dev/null; sleep 0.5
BIN=$BIN /tmp/pw/srv.sh start
python3 -c "
import boto3
c=boto3.client('s3',endpoint_url='http://127.0.0.1:9100',aws_access_key_id='benchkey',aws_secret_access_key='benchsecret123456',region_name='us-east-1')
c.create_bucket(Bucket='bench')"
P=$(cat /tmp/pw/pid)
T=$(for t in /proc/$P/task/*; do [ "$(cat $t/comm)" = raft-log-sync ] && basename $t; done)
strace -T -e trace=fdatasync,fsync -p $T -o /tmp/pw/fs-$L.trace 2>/dev/null &
S=$!
wrk -t2 -c16 -d${SECS:-20}s --latency -s /tmp/pw/put.lua http://127.0.0.1:9100 > /tmp/pw/wrk-$L.txt
kill $S; sleep 0.3
f=$(grep -o "<[0-9.]*>" /tmp/pw/fs-$L.trace | tr -d '<>' | sort -n | awk '{a[NR]=$1} $1>0.02{s++} $1>0.1{h++} END {printf "syncs %d p50 %.2fms p99 %.1fms max %.0fms >20ms %d >100ms %d", NR, a[int(NR/2)]*1000, a[int(NR*.99)]*1000, a[NR]*1000, s, h}')
echo "$L $(grep Requests/sec /tmp/pw/wrk-$L.txt | awk '{print $2}')/s p99 $(awk '/ 99%/{print $2}' /tmp/pw/wrk-$L.txt) | $f"
/tmp/pw/srv.sh stop
