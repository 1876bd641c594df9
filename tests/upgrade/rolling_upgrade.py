"""A rolling upgrade under load. A three-node cluster and its gateway run OLD_BIN (the Coffer
of an earlier commit) and take PUTs and GETs from boto3 clients; each node in turn, then the
gateway, is stopped with SIGTERM and started again as NEW_BIN (`deploy/local-cluster.sh
upgrade`), so the cluster runs mixed versions for a while. At the end every acknowledged PUT
must read back byte for byte, and again after every process is restarted on NEW_BIN.

usage: rolling_upgrade.py OLD_BIN NEW_BIN WORKDIR  (run by `make test-upgrade`)"""
import hashlib
import os
import random
import shutil
import subprocess
import sys
import threading
import time

import boto3
from botocore.client import Config
from botocore.exceptions import BotoCoreError, ClientError

old_bin, new_bin, work = sys.argv[1:4]
here = os.path.dirname(os.path.abspath(__file__))
cluster_sh = os.path.join(here, "..", "..", "deploy", "local-cluster.sh")
shutil.rmtree(work, ignore_errors=True)
base = 21000 + os.getpid() % 500 * 10
ports = ["--s3-port", str(base), "--rpc-port", str(base + 100), "--admin-port", str(base + 200)]
env = dict(os.environ, COFFER_ACCESS_KEY_ID="upgradeaccesskey",
           COFFER_SECRET_ACCESS_KEY="upgradesecretkey0123456789")


def cluster(*args, binary):
    subprocess.run([cluster_sh, *args, "--dir", work, *ports], check=True,
                   env=dict(env, COFFER_BIN=binary))


cluster("up", "3", binary=old_bin)
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{base}", region_name="us-east-1",
                  aws_access_key_id=env["COFFER_ACCESS_KEY_ID"],
                  aws_secret_access_key=env["COFFER_SECRET_ACCESS_KEY"],
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                                connect_timeout=5, read_timeout=30))
s3.create_bucket(Bucket="upgrade")

acked = {}  # key -> md5 of the body its PUT was acknowledged with
lock = threading.Lock()
stop = threading.Event()
stats = {"put_ok": 0, "put_failed": 0, "get_ok": 0, "get_failed": 0, "wrong": 0}


def load(worker):
    """PUTs and GETs of this worker's own keys, so that what it reads is what it last wrote."""
    rnd = random.Random(worker)
    mine = {}
    n = 0
    while not stop.is_set():
        n += 1
        key = f"w{worker}/k{n % 400:04d}"
        # Small bodies are stored inline in their record, larger ones as erasure-coded blobs.
        body = rnd.randbytes(rnd.choice([1000, 20_000, 200_000, 1_500_000]))
        try:
            s3.put_object(Bucket="upgrade", Key=key, Body=body)
            mine[key] = hashlib.md5(body).hexdigest()
            with lock:
                acked[key] = mine[key]
                stats["put_ok"] += 1
        except (BotoCoreError, ClientError):
            # Unacknowledged: the key may hold the old body or the new one, so it leaves the
            # check until a later PUT of it is acknowledged.
            mine.pop(key, None)
            with lock:
                acked.pop(key, None)
                stats["put_failed"] += 1
            time.sleep(0.05)
        if not mine:
            continue
        key, want = rnd.choice(sorted(mine.items()))
        try:
            got = s3.get_object(Bucket="upgrade", Key=key)["Body"].read()
            with lock:
                stats["get_ok"] += 1
                if hashlib.md5(got).hexdigest() != want:
                    stats["wrong"] += 1
                    print(f"WRONG READ {key}", flush=True)
        except (BotoCoreError, ClientError):
            with lock:
                stats["get_failed"] += 1


def check(stage):
    bad = []
    for key, want in sorted(acked.items()):
        got = s3.get_object(Bucket="upgrade", Key=key)["Body"].read()
        if hashlib.md5(got).hexdigest() != want:
            bad.append(key)
    print(f"{stage}: {len(acked)} acknowledged keys read back, {len(bad)} wrong", flush=True)
    if bad:
        raise SystemExit(f"{stage}: wrong or lost: {bad[:10]}")


workers = [threading.Thread(target=load, args=(w,)) for w in range(4)]
for t in workers:
    t.start()
started = time.time()
time.sleep(5)
for name in ["3", "2", "1", "gateway"]:
    t0 = time.time()
    cluster("upgrade", name, binary=new_bin)
    print(f"{name} upgraded in {time.time() - t0:.1f} s, {time.time() - started:.0f} s into "
          f"the load: {stats}", flush=True)
    time.sleep(5)
stop.set()
for t in workers:
    t.join()
print(f"load over {time.time() - started:.0f} s: {stats}", flush=True)
check("after the rolling upgrade")
cluster("down", binary=new_bin)
# All nodes at once: a node waits for a quorum to elect a leader before it reports ready.
starts = [threading.Thread(target=cluster, args=("upgrade", n), kwargs={"binary": new_bin})
          for n in ["1", "2", "3"]]
for t in starts:
    t.start()
for t in starts:
    t.join()
cluster("upgrade", "gateway", binary=new_bin)
check("after a full restart on the new binary")
cluster("down", binary=new_bin)
if stats["wrong"]:
    raise SystemExit(f"{stats['wrong']} reads returned a body other than the acknowledged one")
print("rolling upgrade: 1 passed, 0 failed")
