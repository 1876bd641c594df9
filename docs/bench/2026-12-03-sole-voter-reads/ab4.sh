#!/bin/bash
# ab4.sh BIN LABEL: wrk PUT c16, server CPU per op
BIN=$1; L=$2
/tmp/pw/srv.sh stop 2>/dev/null; sleep 0.5
BIN=$BIN /tmp/pw/srv.sh start
python3 -c "
import boto3
c=boto3.client('s3',endpoint_url='http://127.0.0.1:9100',aws_access_key_id='benchkey',aws_secret_access_key='benchsecret123456',region_name='us-east-1')
c.create_bucket(Bucket='bench')"
P=$(cat /tmp/pw/pid)
c0=$(awk '{print $14+$15}' /proc/$P/stat)
wrk -t2 -c16 -d${SECS:-20}s --latency -s /tmp/pw/put.lua http://127.0.0.1:9100 > /tmp/pw/wrk-$L.txt
c1=$(awk '{print $14+$15}' /proc/$P/stat)
rps=$(grep Requests/sec /tmp/pw/wrk-$L.txt | awk '{print $2}')
n=$(grep "requests in" /tmp/pw/wrk-$L.txt | awk '{print $1}')
echo "$L ${rps}/s p50 $(awk '/ 50%/{print $2}' /tmp/pw/wrk-$L.txt) p99 $(awk '/ 99%/{print $2}' /tmp/pw/wrk-$L.txt) cpu/op $(python3 -c "print(round(($c1-$c0)*10000/$n,1))")us"
/tmp/pw/srv.sh stop
