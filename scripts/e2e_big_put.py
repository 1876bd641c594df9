"""One 5 GiB PutObject (a single request, not multipart) through a presigned URL with curl, from
a sparse file, then read back and compared by MD5; checks the server's peak RSS stays bounded
(a body buffered whole would take 5 GiB). Usage: e2e_big_put.py ENDPOINT WORKDIR SERVER_PID"""
import hashlib
import os
import subprocess
import sys

import boto3
from botocore.client import Config

ep, work, pid = sys.argv[1], sys.argv[2], sys.argv[3]
size = int(os.environ.get("E2E_HUGE_BYTES", 5 << 30))
limit_mib = 512
s3 = boto3.client("s3", endpoint_url=ep, config=Config(s3={"addressing_style": "path"}))
b = "huge"
s3.create_bucket(Bucket=b)
src = os.path.join(work, "huge.sparse")
with open(src, "wb") as f:
    f.truncate(size)
url = s3.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "huge"}, ExpiresIn=3600)
subprocess.run(["curl", "-sf", "-T", src, url, "-o", "/dev/null"], check=True)
os.remove(src)
head = s3.head_object(Bucket=b, Key="huge")
assert head["ContentLength"] == size, head
zeros = bytes(1 << 20)
want = hashlib.md5()
for _ in range(size >> 20):
    want.update(zeros)
want.update(bytes(size & ((1 << 20) - 1)))
assert head["ETag"] == '"%s"' % want.hexdigest(), head
got = hashlib.md5()
body = s3.get_object(Bucket=b, Key="huge")["Body"]
for chunk in iter(lambda: body.read(4 << 20), b""):
    got.update(chunk)
assert got.hexdigest() == want.hexdigest(), "read back differs"
s3.delete_object(Bucket=b, Key="huge")
s3.delete_bucket(Bucket=b)
with open(f"/proc/{pid}/status") as f:
    hwm = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) // 1024
print(f"{size >> 20} MiB single PUT and GET ok; server peak RSS {hwm} MiB")
assert hwm < limit_mib, f"server peak RSS {hwm} MiB >= {limit_mib} MiB"
