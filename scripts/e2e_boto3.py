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

# A completion sent twice (a retry after a lost answer) answers the same success twice.
up = s3.create_multipart_upload(Bucket=b, Key="twice")["UploadId"]
etag = s3.upload_part(Bucket=b, Key="twice", UploadId=up, PartNumber=1, Body=b"once")["ETag"]
mpu = {"Parts": [{"PartNumber": 1, "ETag": etag}]}
first = s3.complete_multipart_upload(Bucket=b, Key="twice", UploadId=up, MultipartUpload=mpu)
again = s3.complete_multipart_upload(Bucket=b, Key="twice", UploadId=up, MultipartUpload=mpu)
assert first["ETag"] == again["ETag"] and first["ETag"].endswith('-1"'), (first, again)
assert s3.get_object(Bucket=b, Key="twice")["Body"].read() == b"once"
keys.append("twice")
# Created without an algorithm, its parts sent with boto3's default CRC32: as on S3 the
# object gets the default full-object CRC64NVME, the same a single PUT of the bytes gets.
assert first["ChecksumType"] == "FULL_OBJECT" and "ChecksumCRC64NVME" in first, first
h = s3.head_object(Bucket=b, Key="twice", ChecksumMode="ENABLED")
bare = boto3.client("s3", endpoint_url=ep, config=Config(
    s3={"addressing_style": "path"}, request_checksum_calculation="when_required"))
single = bare.put_object(Bucket=b, Key="once", Body=b"once")
assert h["ChecksumCRC64NVME"] == single["ChecksumCRC64NVME"] == first["ChecksumCRC64NVME"], h
keys.append("once")

# GET and HEAD say how many tags an object has.
s3.put_object(Bucket=b, Key="tagged", Body=b"t", Tagging="a=1&b=2")
assert s3.get_object(Bucket=b, Key="tagged")["TagCount"] == 2
s3.put_object_tagging(Bucket=b, Key="tagged", Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})
assert s3.head_object(Bucket=b, Key="tagged")["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "1"
assert "TagCount" not in s3.get_object(Bucket=b, Key="once")
keys.append("tagged")

# A bucket holding only an incomplete upload is deleted, and the upload with it.
s3.create_bucket(Bucket="boto-pending")
up = s3.create_multipart_upload(Bucket="boto-pending", Key="k")["UploadId"]
s3.upload_part(Bucket="boto-pending", Key="k", UploadId=up, PartNumber=1, Body=b"part")
s3.delete_bucket(Bucket="boto-pending")
assert "boto-pending" not in [x["Name"] for x in s3.list_buckets()["Buckets"]]

# A POST Object form signed with Signature Version 2 (boto3 with signature_version "s3"
# signs AWSAccessKeyId, policy and signature), with a tag set, posted as a browser would.
import urllib3
v2 = boto3.client("s3", endpoint_url=ep, config=Config(s3={"addressing_style": "path"},
                                                       signature_version="s3"))
tagging = "<Tagging><TagSet><Tag><Key>via</Key><Value>v2 form</Value></Tag></TagSet></Tagging>"
post = v2.generate_presigned_post(
    b, "v2/${filename}", Fields={"success_action_status": "201", "tagging": tagging},
    Conditions=[{"success_action_status": "201"}, {"tagging": tagging},
                ["content-length-range", 1, 1 << 20]],
    ExpiresIn=300)
assert "AWSAccessKeyId" in post["fields"] and "signature" in post["fields"], post
form = dict(post["fields"])
form["file"] = ("hello.txt", b"posted with sigv2")
r = urllib3.request("POST", post["url"], fields=form)
assert r.status == 201, (r.status, r.data)
assert b"<Key>v2/hello.txt</Key>" in r.data, r.data
assert s3.get_object(Bucket=b, Key="v2/hello.txt")["Body"].read() == b"posted with sigv2"
assert s3.get_object_tagging(Bucket=b, Key="v2/hello.txt")["TagSet"] == [
    {"Key": "via", "Value": "v2 form"}]
# The same form with a tampered signature stores nothing.
form["signature"] = "AAAA" + form["signature"][4:]
form["file"] = ("evil.txt", b"x")
r = urllib3.request("POST", post["url"], fields=form)
assert r.status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in r.data, (r.status, r.data)
keys.append("v2/hello.txt")

objs = [{"Key": k} for k in keys] + [{"Key": "a/b c+d.bin"}, {"Key": "big.bin"}]
d = s3.delete_objects(Bucket=b, Delete={"Objects": objs, "Quiet": False})
assert len(d["Deleted"]) == len(objs), d
s3.delete_bucket(Bucket=b)

# Versioning, as boto3 users drive it: versions of one key, a marker, reading and restoring an
# old version, then emptying the bucket by its versions (what `Bucket.object_versions.delete()`
# does) so that it can be deleted.
vb = "boto-versions"
s3.create_bucket(Bucket=vb)
s3.put_bucket_versioning(Bucket=vb, VersioningConfiguration={"Status": "Enabled"})
assert s3.get_bucket_versioning(Bucket=vb)["Status"] == "Enabled"
ids = [s3.put_object(Bucket=vb, Key="doc", Body=b"v%d" % i)["VersionId"] for i in range(3)]
assert len(set(ids)) == 3, ids
assert s3.get_object(Bucket=vb, Key="doc", VersionId=ids[0])["Body"].read() == b"v0"
d = s3.delete_object(Bucket=vb, Key="doc")
assert d["DeleteMarker"] is True and d["VersionId"], d
try:
    s3.get_object(Bucket=vb, Key="doc")
    raise AssertionError("a deleted key was read")
except ClientError as e:
    assert e.response["Error"]["Code"] == "NoSuchKey", e.response
    assert e.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
listed = s3.list_object_versions(Bucket=vb)
assert [v["VersionId"] for v in listed["Versions"]] == ids[::-1], listed
assert [m["IsLatest"] for m in listed["DeleteMarkers"]] == [True], listed
r = s3.copy_object(Bucket=vb, Key="doc", CopySource={"Bucket": vb, "Key": "doc", "VersionId": ids[1]})
assert r["CopySourceVersionId"] == ids[1] and r["VersionId"] not in ids, r
assert s3.get_object(Bucket=vb, Key="doc")["Body"].read() == b"v1"
boto3.resource("s3", endpoint_url=ep, config=Config(s3={"addressing_style": "path"})) \
    .Bucket(vb).object_versions.delete()
assert "Versions" not in s3.list_object_versions(Bucket=vb)
s3.delete_bucket(Bucket=vb)

# SSE-S3: put, upload_file (multipart), copy; read back whole and in a range.
b = "boto-sse"
s3.create_bucket(Bucket=b)
secret = os.urandom(300_000)
r = s3.put_object(Bucket=b, Key="sse/one", Body=secret, ServerSideEncryption="AES256")
assert r["ServerSideEncryption"] == "AES256" and r["ETag"] == '"%s"' % hashlib.md5(secret).hexdigest(), r
g = s3.get_object(Bucket=b, Key="sse/one", Range="bytes=70000-140000")
assert g["ServerSideEncryption"] == "AES256" and g["Body"].read() == secret[70000:140001], g
big = os.path.join(work, "boto-sse.bin")
with open(big, "wb") as f:
    f.write(os.urandom(20 << 20))
s3.upload_file(big, b, "sse/big", ExtraArgs={"ServerSideEncryption": "AES256"})
assert s3.head_object(Bucket=b, Key="sse/big")["ServerSideEncryption"] == "AES256"
s3.download_file(b, "sse/big", big + ".back")
assert open(big, "rb").read() == open(big + ".back", "rb").read()
r = s3.copy_object(Bucket=b, Key="sse/copy", CopySource={"Bucket": b, "Key": "sse/one"},
                   ServerSideEncryption="AES256")
assert s3.get_object(Bucket=b, Key="sse/copy")["Body"].read() == secret
# SSE-KMS under the server's configured key (testkey-1), by ARN, and multipart.
arn = "arn:aws:kms:us-east-1:000000000000:key/testkey-1"
r = s3.put_object(Bucket=b, Key="kms/one", Body=secret, ServerSideEncryption="aws:kms", SSEKMSKeyId=arn)
assert r["ServerSideEncryption"] == "aws:kms" and r["SSEKMSKeyId"] == "testkey-1", r
g = s3.get_object(Bucket=b, Key="kms/one", Range="bytes=1-65537")
assert g["SSEKMSKeyId"] == "testkey-1" and g["Body"].read() == secret[1:65538], g
s3.upload_file(big, b, "kms/big", ExtraArgs={"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "testkey-1"})
s3.download_file(b, "kms/big", big + ".kms")
assert open(big, "rb").read() == open(big + ".kms", "rb").read()
try:
    s3.put_object(Bucket=b, Key="kms/none", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId="nokey")
    raise AssertionError("a key the service does not have was accepted")
except ClientError as e:
    assert e.response["Error"]["Code"] == "KMS.NotFoundException", e.response
print("boto3 checks passed")
