#!/bin/bash
# cpalt.sh: aws s3 cp of a 1 GiB object down, alternating between coffer (srv.sh, port 9100)
# and s3-floor (port 9300), five times each, after one warm-up download. Every download
# deletes the last one's file first, so each gets page cache pages that were just freed.
cd /tmp/pw
export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret123456 AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/tmp/pw/awscfg
[ -f one.bin ] || head -c 1073741824 /dev/urandom > one.bin
./srv.sh start
setsid ./s3-floor --address 127.0.0.1:9300 > floor.log 2>&1 & echo $! > floor.pid; sleep 0.5
for p in 9100 9300; do
  aws --endpoint-url http://127.0.0.1:$p s3 mb s3://bench > /dev/null
  aws --endpoint-url http://127.0.0.1:$p s3 cp one.bin s3://bench/one.bin --quiet
done
rm -f dl.bin; aws --endpoint-url http://127.0.0.1:9300 s3 cp s3://bench/one.bin dl.bin --quiet
for i in 1 2 3 4 5; do for p in 9100 9300; do
  rm -f dl.bin
  /usr/bin/time -f "$p %e s wall, client %U user %S sys" aws --endpoint-url http://127.0.0.1:$p s3 cp s3://bench/one.bin dl.bin --quiet
done; done 2>&1 | sort
rm -f dl.bin; ./srv.sh stop; kill $(cat floor.pid)
