"""Crash story helper. `put EP FILE`: write objects until the server dies, recording each
acknowledged key in FILE (fsynced): every other write goes to a versioned bucket, a few keys
over and over, and records the version id it was answered. `verify EP FILE`: every
acknowledged object and version must be there with the right bytes, and every object or
version that is visible must be complete (bytes derive from the key and the write's number,
so a half-written one cannot pass)."""
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
V = "crash-versions"


def content(key):
    rnd = random.Random(key)
    size = rnd.choice([100, 5_000, 60_000, 300_000, 2_500_000])
    return rnd.randbytes(size)


if mode == "put":
    s3.create_bucket(Bucket=B)
    s3.create_bucket(Bucket=V)
    s3.put_bucket_versioning(Bucket=V, VersioningConfiguration={"Status": "Enabled"})
    with open(path, "a") as f:
        failures, i, start = 0, 0, time.time()
        while failures < 3 and time.time() - start < 30:
            i += 1
            try:
                if i % 2:
                    key = f"v-{i % 7}"
                    r = s3.put_object(Bucket=V, Key=key, Body=content(f"{key}#{i}"),
                                      Metadata={"seq": str(i)})
                    line = f"{key} {r['VersionId']} {i}"
                else:
                    key = f"obj-{i:06}"
                    s3.put_object(Bucket=B, Key=key, Body=content(key))
                    line = key
            except Exception:
                failures += 1
                time.sleep(0.2)
                continue
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
elif mode == "verify":
    lines = [line.split() for line in open(path).read().splitlines() if line.strip()]
    acked = [w[0] for w in lines if len(w) == 1]
    versions = [w for w in lines if len(w) == 3]
    assert versions, "no versioned PUT was acknowledged before the kill"
    for key, vid, i in versions:
        got = s3.get_object(Bucket=V, Key=key, VersionId=vid)["Body"].read()
        assert got == content(f"{key}#{i}"), f"{key} {vid} differs"
    listed = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=V):
        listed += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
    assert len(listed) == len(set(listed)), "a version is listed twice"
    for key, vid in listed:
        o = s3.get_object(Bucket=V, Key=key, VersionId=vid)
        seq = o["Metadata"]["seq"]
        assert o["Body"].read() == content(f"{key}#{seq}"), f"{key} {vid} is listed but incomplete"
    missing = {(k, v) for k, v, _ in versions} - set(listed)
    assert not missing, f"acknowledged versions not listed: {sorted(missing)[:5]}"
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
    print(f"crash: {len(acked)} acknowledged objects intact, {len(visible)} visible, all complete; "
          f"{len(versions)} acknowledged versions intact, {len(listed)} listed, all complete")
