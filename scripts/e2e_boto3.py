"""boto3 against a running Coffer: objects, ranges, metadata, checksums, listing, multipart
via upload_file, batch delete and error codes. Usage: e2e_boto3.py ENDPOINT WORKDIR"""
import hashlib
import os
import sys

import boto3
from botocore.client import Config
from botocore.exceptions import ClientError

ep, work = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=ep, config=Config(s3={"addressing_style": "path"}))
b = "boto"
s3.create_bucket(Bucket=b)

body = os.urandom(200_000)
r = s3.put_object(Bucket=b, Key="a/b c+d.bin", Body=body, ContentType="application/x-test",
                  Metadata={"color": "blue"}, ChecksumAlgorithm="SHA256")
assert r["ETag"] == '"%s"' % hashlib.md5(body).hexdigest(), r
g = s3.get_object(Bucket=b, Key="a/b c+d.bin", ChecksumMode="ENABLED")
assert g["Body"].read() == body
assert g["ContentType"] == "application/x-test" and g["Metadata"] == {"color": "blue"}, g
assert "ChecksumSHA256" in g, g
part = s3.get_object(Bucket=b, Key="a/b c+d.bin", Range="bytes=-100")["Body"].read()
assert part == body[-100:]

for i in range(25):
    s3.put_object(Bucket=b, Key=f"list/{i:03}", Body=b"x")
keys, token = [], None
while True:
    kw = {"Bucket": b, "Prefix": "list/", "MaxKeys": 7}
    if token:
        kw["ContinuationToken"] = token
    page = s3.list_objects_v2(**kw)
    keys += [o["Key"] for o in page.get("Contents", [])]
    if not page["IsTruncated"]:
        break
    token = page["NextContinuationToken"]
assert keys == [f"list/{i:03}" for i in range(25)], keys
top = s3.list_objects_v2(Bucket=b, Delimiter="/")
assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "list/"], top
v1 = s3.list_objects(Bucket=b, Prefix="list/", MaxKeys=10, Marker="list/004")
assert [o["Key"] for o in v1["Contents"]][0] == "list/005" and v1["IsTruncated"]

big = os.path.join(work, "boto-big.bin")
with open(big, "wb") as f:
    f.write(os.urandom(20 * 1024 * 1024))
s3.upload_file(big, b, "big.bin", Config=boto3.s3.transfer.TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20))
s3.download_file(b, "big.bin", big + ".back")
assert open(big, "rb").read() == open(big + ".back", "rb").read()

try:
    s3.get_object(Bucket=b, Key="missing")
    raise SystemExit("expected NoSuchKey")
except ClientError as e:
    assert e.response["Error"]["Code"] == "NoSuchKey", e.response
try:
    s3.get_object(Bucket=b, Key="a/b c+d.bin", IfNoneMatch=r["ETag"])
    raise SystemExit("expected 304")
except ClientError as e:
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 304, e.response
try:
    s3.put_object(Bucket=b, Key="a/b c+d.bin", Body=b"new", IfNoneMatch="*")
    raise SystemExit("expected PreconditionFailed")
except ClientError as e:
    assert e.response["Error"]["Code"] == "PreconditionFailed", e.response
try:
    s3.delete_bucket(Bucket=b)
    raise SystemExit("expected BucketNotEmpty")
except ClientError as e:
    assert e.response["Error"]["Code"] == "BucketNotEmpty", e.response

objs = [{"Key": k} for k in keys] + [{"Key": "a/b c+d.bin"}, {"Key": "big.bin"}]
d = s3.delete_objects(Bucket=b, Delete={"Objects": objs, "Quiet": False})
assert len(d["Deleted"]) == len(objs), d
s3.delete_bucket(Bucket=b)
print("boto3 checks passed")
