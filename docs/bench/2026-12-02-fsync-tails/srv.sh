#!/bin/bash
# srv.sh start|stop
BIN=${BIN:-$HOME/.cache/coffer-target/release/coffer}
if [ "$1" = start ]; then
 rm -rf /tmp/pw/data; mkdir -p /tmp/pw/data
 COFFER_ACCESS_KEY_ID=benchkey COFFER_SECRET_ACCESS_KEY=benchsecret123456 RUST_LOG=${RUST_LOG:-info,openraft=warn} setsid $BIN server --data /tmp/pw/data --address 127.0.0.1:9100 --admin-address 127.0.0.1:9101 $EXTRA > /tmp/pw/server.log 2>&1 &
 echo $! > /tmp/pw/pid
 for i in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:9100/ && break; sleep 0.2; done
else
 kill $(cat /tmp/pw/pid)
fi
