#!/bin/bash
# pput.sh BIN LABEL: rclone PUT 4x256 MiB against a fresh server, perf (dwarf) for 3 s mid-way
BIN=$1; L=$2
cd /tmp/pw; unset AWS_CA_BUNDLE
./srv.sh stop 2>/dev/null; sleep 0.5
BIN=$BIN ./srv.sh start
export RCLONE_CONFIG=/tmp/pw/rclone.conf; : > $RCLONE_CONFIG
export RCLONE_CONFIG_B_TYPE=s3 RCLONE_CONFIG_B_PROVIDER=Other RCLONE_CONFIG_B_ENV_AUTH=false RCLONE_CONFIG_B_ACCESS_KEY_ID=benchkey RCLONE_CONFIG_B_SECRET_ACCESS_KEY=benchsecret123456 RCLONE_CONFIG_B_ENDPOINT=http://127.0.0.1:9100 RCLONE_CONFIG_B_REGION=us-east-1 RCLONE_CONFIG_B_FORCE_PATH_STYLE=true
F=(--s3-no-check-bucket --transfers 4 --checkers 8 --s3-chunk-size 16M --s3-upload-concurrency 4 --multi-thread-streams 4 --stats 0 --log-level ERROR)
rclone mkdir b:bench
P=$(cat pid)
rclone copy /tmp/pw/src/ b:bench/large/ "${F[@]}" &
RP=$!
sleep 2.5
perf record -F 499 --call-graph dwarf,32768 -p $P -o /tmp/pw/pput-$L.data -- sleep 2 > /dev/null 2>&1
wait $RP
./srv.sh stop
