"""Crash story helper. `put EP FILE`: write objects until the server dies, recording each
acknowledged key in FILE (fsynced). `verify EP FILE`: every acknowledged object must be there
with the right bytes, and every object that is visible must be complete (bytes derive from the
key, so a half-written one cannot pass)."""
import hashlib
import os
import random
import sys
import time

import boto3
from botocore.client import Config

mode, ep, path = sys.argv[1:4]
s3 = boto3.client("s3", endpoint_url=ep,
                  config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10,
                                s3={"addressing_style": "path"}))
B = "crash"


def content(key):
    rnd = random.Random(key)
    size = rnd.choice([100, 5_000, 60_000, 300_000, 2_500_000])
    return rnd.randbytes(size)


if mode == "put":
    s3.create_bucket(Bucket=B)
    with open(path, "a") as f:
        failures, i, start = 0, 0, time.time()
        while failures < 3 and time.time() - start < 30:
            key = f"obj-{i:06}"
            i += 1
            try:
                s3.put_object(Bucket=B, Key=key, Body=content(key))
            except Exception:
                failures += 1
                time.sleep(0.2)
                continue
            f.write(key + "\n")
            f.flush()
            os.fsync(f.fileno())
elif mode == "verify":
    acked = [k for k in open(path).read().split() if k]
    assert acked, "no PUT was acknowledged before the kill"
    for k in acked:
        got = s3.get_object(Bucket=B, Key=k)["Body"].read()
        assert hashlib.md5(got).digest() == hashlib.md5(content(k)).digest(), f"{k} differs"
    visible = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=B):
        visible += [o["Key"] for o in page.get("Contents", [])]
    for k in visible:
        assert s3.get_object(Bucket=B, Key=k)["Body"].read() == content(k), f"{k} is visible but incomplete"
    missing = set(acked) - set(visible)
    assert not missing, f"acknowledged but not listed: {sorted(missing)[:5]}"
    print(f"crash: {len(acked)} acknowledged objects intact, {len(visible)} visible, all complete")
