#!/bin/bash
# prof.sh BIN LABEL: wrk PUT c16 15 s with perf for 10 s of it; WAL bytes written
BIN=$1; L=$2
cd /tmp/pw
./srv.sh stop 2>/dev/null; sleep 0.5
BIN=$BIN ./srv.sh start
python3 -c "
import boto3
c=boto3.client('s3',endpoint_url='http://127.0.0.1:9100',aws_access_key_id='benchkey',aws_secret_access_key='benchsecret123456',region_name='us-east-1')
c.create_bucket(Bucket='bench')"
P=$(cat pid)
w0=$(awk '/^write_bytes/{print $2}' /proc/$P/io)
( sleep 3; perf record -F 499 -g -p $P -o /tmp/pw/perf-$L.data -- sleep 10 > /dev/null 2>&1 ) &
wrk -t2 -c16 -d15s -s put.lua http://127.0.0.1:9100 > wrk-p$L.txt
w1=$(awk '/^write_bytes/{print $2}' /proc/$P/io)
n=$(grep "requests in" wrk-p$L.txt | awk '{print $1}')
echo "$L $(grep Requests/sec wrk-p$L.txt) disk bytes/op $(( (w1-w0)/n ))"
wait
./srv.sh stop
