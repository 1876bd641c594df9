#!/bin/bash
# cpdown.sh PORT LABEL: aws s3 cp of a 1 GiB object down, three times in a row into the same
# path (each run deletes the last one's file first, so later runs reuse just-freed page cache)
P=$1; L=$2; cd /tmp/pw
for i in 1 2 3; do
  rm -f dl.bin
  /usr/bin/time -f "$L run $i: %e s wall, client %U user %S sys" aws --endpoint-url http://127.0.0.1:$P s3 cp s3://bench/one.bin dl.bin --quiet
done
rm -f dl.bin
