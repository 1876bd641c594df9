"""boto3 with virtual-host-style addressing (bucket.DOMAIN:PORT) against a Coffer server started
with --domain DOMAIN. Names under DOMAIN resolve to 127.0.0.1 inside this script only.
Usage: e2e_vhost.py PORT DOMAIN"""
import os
import socket
import sys

import boto3
from botocore.client import Config
from botocore.exceptions import ClientError

port, domain = int(sys.argv[1]), sys.argv[2]
_resolve = socket.getaddrinfo


def resolve(host, *args, **kwargs):
    if isinstance(host, str) and (host == domain or host.endswith("." + domain)):
        host = "127.0.0.1"
    return _resolve(host, *args, **kwargs)


socket.getaddrinfo = resolve
s3 = boto3.client("s3", endpoint_url=f"http://{domain}:{port}",
                  config=Config(s3={"addressing_style": "virtual"}))
b = "vhost-e2e"
s3.create_bucket(Bucket=b)
body = os.urandom(100_000)
s3.put_object(Bucket=b, Key="dir/a b.bin", Body=body)
assert s3.get_object(Bucket=b, Key="dir/a b.bin")["Body"].read() == body
listed = s3.list_objects_v2(Bucket=b, Prefix="dir/")
assert [o["Key"] for o in listed["Contents"]] == ["dir/a b.bin"], listed
try:
    s3.get_object(Bucket=b, Key="missing")
    raise SystemExit("GET of a missing key succeeded")
except ClientError as e:
    assert e.response["Error"]["Code"] == "NoSuchKey", e.response
# The same object through path style on the same server.
path = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}",
                    config=Config(s3={"addressing_style": "path"}))
assert path.get_object(Bucket=b, Key="dir/a b.bin")["Body"].read() == body
s3.delete_object(Bucket=b, Key="dir/a b.bin")
s3.delete_bucket(Bucket=b)
print("virtual-host addressing ok")
