"""Continuous PUT/GET load with boto3 for the partition test: PUTs objects (3000 B inline and
1 MiB + 17 B with shards) and GETs back acknowledged ones, until STOP_FILE exists. Failed
requests are allowed (a node is being cut off), wrong bytes never. Writes a JSON report:
{"puts", "gets", "failed", "wrong", "acked": {key: sha256}, "acked_at": {key: unix time}}.
With `verify`, reads every acknowledged object of a report back and exits non-zero on any
missing or wrong one.

Usage: load.py ENDPOINT BUCKET STOP_FILE REPORT
       load.py verify ENDPOINT BUCKET REPORT"""
import hashlib
import json
import os
import random
import sys
import time

import boto3
from botocore.client import Config

verify = sys.argv[1] == "verify"
if verify:
    ep, bucket, report = sys.argv[2:5]
else:
    ep, bucket, stop_file, report = sys.argv[1:5]
s3 = boto3.client(
    "s3",
    endpoint_url=ep,
    config=Config(
        s3={"addressing_style": "path"},
        retries={"max_attempts": 1},
        connect_timeout=5,
        read_timeout=20,
    ),
)
if verify:
    with open(report) as f:
        acked = json.load(f)["acked"]
    bad = [
        k
        for k, h in sorted(acked.items())
        if hashlib.sha256(s3.get_object(Bucket=bucket, Key=k)["Body"].read()).hexdigest() != h
    ]
    print(f"{len(acked) - len(bad)} of {len(acked)} acknowledged objects intact at {ep}")
    sys.exit(1 if bad else 0)

acked, acked_at, puts, gets, failed, wrong = {}, {}, 0, 0, 0, []
i = 0
while not os.path.exists(stop_file):
    key = f"load/{i:05}"
    body = os.urandom(3000 if i % 2 == 0 else (1 << 20) + 17)
    i += 1
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        acked[key] = hashlib.sha256(body).hexdigest()
        acked_at[key] = time.time()
        puts += 1
    except Exception:  # refused or cut: allowed, as long as nothing wrong is ever read
        failed += 1
        time.sleep(0.1)
    if acked:
        k = random.choice(list(acked))
        try:
            got = s3.get_object(Bucket=bucket, Key=k)["Body"].read()
            gets += 1
            if hashlib.sha256(got).hexdigest() != acked[k]:
                wrong.append(k)
        except Exception:
            failed += 1
with open(report, "w") as f:
    json.dump(
        {
            "puts": puts,
            "gets": gets,
            "failed": failed,
            "wrong": wrong,
            "acked": acked,
            "acked_at": acked_at,
        },
        f,
    )
