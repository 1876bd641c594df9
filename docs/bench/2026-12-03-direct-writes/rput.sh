#!/bin/bash
# rput.sh BIN LABEL [perf]: rclone PUT 4x256 MiB (then GET) against a fresh server; server CPU s for each
# Runs in /tmp/pw with srv.sh of ../2026-12-02-fsync-tails/; a 4th argument profiles the GET with perf.
BIN=$1; L=$2
cd /tmp/pw
unset AWS_CA_BUNDLE
./srv.sh stop 2>/dev/null; sleep 0.5
BIN=$BIN ./srv.sh start
export RCLONE_CONFIG=/tmp/pw/rclone.conf; : > $RCLONE_CONFIG
export RCLONE_CONFIG_B_TYPE=s3 RCLONE_CONFIG_B_PROVIDER=Other RCLONE_CONFIG_B_ENV_AUTH=false RCLONE_CONFIG_B_ACCESS_KEY_ID=benchkey RCLONE_CONFIG_B_SECRET_ACCESS_KEY=benchsecret123456 RCLONE_CONFIG_B_ENDPOINT=http://127.0.0.1:9100 RCLONE_CONFIG_B_REGION=us-east-1 RCLONE_CONFIG_B_FORCE_PATH_STYLE=true
F=(--s3-no-check-bucket --transfers 4 --checkers 8 --s3-chunk-size 16M --s3-upload-concurrency 4 --multi-thread-streams 4 --stats 0 --log-level ERROR)
if [ ! -d /tmp/pw/src ]; then mkdir -p /tmp/pw/src; for i in 1 2 3 4; do head -c 268435456 /dev/urandom > /tmp/pw/src/f$i; done; fi
rclone mkdir b:bench
P=$(cat pid)
cpu() { awk '{print $14+$15}' /proc/$P/stat; }
[ -n "$3" ] && { perf record -F 999 -g -p $P -o /tmp/pw/perf-$L.data > /dev/null 2>&1 & PP=$!; sleep 0.3; }
c0=$(cpu); t0=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o /tmp/pw/rc-$L.txt rclone copy /tmp/pw/src/ b:bench/large/ "${F[@]}"
t1=$(date +%s.%N); c1=$(cpu)
[ -n "$3" ] && { kill -INT $PP; wait $PP; }
rm -rf /tmp/pw/dl; mkdir -p /tmp/pw/dl
[ -n "$4" ] && { perf record -F 999 -g -p $P -o /tmp/pw/perfget-$L.data > /dev/null 2>&1 & PP=$!; sleep 0.3; }
t2=$(date +%s.%N)
rclone copy b:bench/large/ /tmp/pw/dl "${F[@]}"
t3=$(date +%s.%N); c2=$(cpu)
[ -n "$4" ] && { kill -INT $PP; wait $PP; }
python3 -c "print('$L put %.1f MiB/s srv %.2f ms/MiB client %s | get %.1f MiB/s srv %.2f ms/MiB' % (1024/($t1-$t0), ($c1-$c0)*10/1024, '$(cat /tmp/pw/rc-$L.txt)', 1024/($t3-$t2), ($c2-$c1)*10/1024))"
cmp /tmp/pw/src/f1 /tmp/pw/dl/f1 || echo MISMATCH
./srv.sh stop
