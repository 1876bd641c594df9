"""Randomised S3 requests, signed with SigV4 by botocore, against a running Coffer server.

Each request draws a method, a bucket or key path, query parameters (subresources, list and
multipart parameters, response overrides) and S3 headers from pools of names and of values,
both valid and hostile (huge numbers, empty, control characters, wrong types), and for
writes a body (S3 XML documents, cut or spliced at random). Whatever the request, the answer
must be an S3 answer: no 5xx but 501 NotImplemented, no dropped connection, a request id on
every response, and an S3 XML error body on every error that has a body.

Sub-resource names come from botocore's S3 service model as well as from the pool. A request
whose first sub-resource names no operation of the model for its method and level must not
succeed, and neither may one that names an operation this server does not implement (those
are found at the start: the operations that answer 501 NotImplemented to a plain request); a
2xx for either is reported, with whether the bucket's listing changed.

Usage: e2e_random_requests.py ENDPOINT REQUESTS [SEED]
(credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY). Exits 1 on any failure and
prints each kind of failure once, with the request that showed it."""
import gzip
import http.client
import json
import os
import random
import re
import sys
import urllib.parse
from collections import Counter

import botocore
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

endpoint, total = sys.argv[1], int(sys.argv[2])
rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
url = urllib.parse.urlsplit(endpoint)
creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
BUCKET = "random-requests"


def send(method, path, query="", headers=None, body=b"", payload_hash=None):
    """Sign and send one request on a fresh connection: (status, headers, body)."""
    target = path + (f"?{query}" if query else "")
    req = AWSRequest(method=method, url=endpoint + target, data=body, headers=dict(headers or {}))
    if payload_hash:
        req.headers["X-Amz-Content-SHA256"] = payload_hash
    S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    conn.putrequest(method, target, skip_accept_encoding=True)
    for k, v in req.headers.items():
        conn.putheader(k, v)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    if body:
        conn.send(body)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


def model_subresources():
    """{(level, sub-resource): {method: operation}} of botocore's S3 model; level is "bucket"
    or "object"."""
    path = os.path.join(os.path.dirname(botocore.__file__), "data", "s3", "2006-03-01",
                        "service-2.json.gz")
    ops = json.load(gzip.open(path))["operations"]
    out = {}
    for name, op in ops.items():
        uri = op["http"]["requestUri"]
        where, _, query = uri.partition("?")
        sub = query.split("&")[0].split("=")[0]
        if not sub or sub == "list-type" or where not in ("/{Bucket}", "/{Bucket}/{Key+}"):
            continue
        level = "bucket" if where == "/{Bucket}" else "object"
        out.setdefault((level, sub), {})[op["http"]["method"]] = name
    return out


SUBRESOURCES = model_subresources()
SUBRESOURCE_NAMES = sorted({sub for _, sub in SUBRESOURCES})
KEYS = ["obj", "empty", "big", "dir/a", "dir/b/c", "missing", "sp%20ace", "%C3%A9t%C3%A9",
        "a%2Bb", "k" * 300, "%00", "..%2F..", "k%3Fq"]
PARAMS = ["acl", "tagging", "uploads", "uploadId", "partNumber", "versionId", "versions", "delete",
          "cors", "policy", "policyStatus", "publicAccessBlock", "ownershipControls", "location",
          "versioning", "attributes", "list-type", "prefix", "delimiter", "max-keys", "marker",
          "continuation-token", "start-after", "encoding-type", "fetch-owner", "key-marker",
          "upload-id-marker", "max-uploads", "max-parts", "part-number-marker",
          "version-id-marker", "response-content-type", "response-expires",
          "response-cache-control", "response-content-disposition", "lifecycle", "website",
          "restore", "select", "select-type", "x-id", "max-buckets", "torrent", "notification"]
PARAMS = sorted(set(PARAMS) | set(SUBRESOURCE_NAMES))
PARAM_VALUES = ["", "1", "0", "-1", "2", "10000", "10001", "4294967296", "18446744073709551616",
                "abc", "null", "url", "true", "a/b", "/", "dir/", "\x00", "\x01x", "v" * 2000,
                "1.5", "+1", " 1", "\u00e9t\u00e9"]
HEADERS = ["range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since",
           "content-md5", "content-type", "x-amz-copy-source", "x-amz-copy-source-range",
           "x-amz-copy-source-if-match", "x-amz-copy-source-if-none-match",
           "x-amz-metadata-directive", "x-amz-tagging", "x-amz-tagging-directive", "x-amz-acl",
           "x-amz-grant-read", "x-amz-storage-class", "x-amz-meta-a", "x-amz-checksum-crc32",
           "x-amz-checksum-crc32c", "x-amz-checksum-sha256", "x-amz-checksum-crc64nvme",
           "x-amz-checksum-algorithm", "x-amz-sdk-checksum-algorithm", "x-amz-checksum-type",
           "x-amz-checksum-mode", "x-amz-object-attributes", "x-amz-max-parts",
           "x-amz-part-number-marker", "x-amz-server-side-encryption",
           "x-amz-bucket-object-lock-enabled", "x-amz-object-ownership", "x-amz-mp-object-size",
           "expires", "cache-control", "content-encoding", "content-disposition",
           "content-language", "x-amz-expected-bucket-owner", "x-amz-request-payer", "origin",
           "access-control-request-method", "access-control-request-headers",
           "x-amz-decoded-content-length", "x-amz-trailer", "x-amz-write-offset-bytes",
           "x-amz-if-match-size", "x-amz-website-redirect-location", "x-amz-object-lock-mode"]
HEADER_VALUES = [
    "bytes=0-0", "bytes=-1", "bytes=0-", "bytes=5-2", "bytes=99999999999-",
    "bytes=0-18446744073709551615", "bytes=-18446744073709551616", "bytes=1-2,4-5", "*",
    "\"abc\"", "W/\"x\"", "Tue, 14 Nov 2023 22:13:20 GMT", "garbage", "",
    "1B2M2Y8AsgTpgAmY7PhCfg==", "AAAAAA==", "AAAAAAAAAAA=", f"{BUCKET}/obj", f"/{BUCKET}/big",
    f"{BUCKET}/missing", f"{BUCKET}/obj?versionId=null", f"{BUCKET}/obj?versionId=x",
    "no-such-bucket/k", "COPY", "REPLACE", "a=b&c=d", "a=b&a=c", "%", "public-read", "private",
    "bucket-owner-full-control", "id=\"abc\"",
    "uri=\"http://acs.amazonaws.com/groups/global/AllUsers\"", "STANDARD", "GLACIER", "BOGUS",
    "CRC32", "crc32c", "SHA1", "COMPOSITE", "FULL_OBJECT", "ENABLED",
    "ETag,Checksum,ObjectParts,StorageClass,ObjectSize", "0", "-1", "5", "1000", "AES256",
    "true", "BucketOwnerEnforced", "http://example.com", "GET", "x-amz-meta-a", "123456789012",
    "requester", "h" * 3000]
BODIES = [
    b"", b"<", b"garbage",
    b"<Delete><Object><Key>obj</Key></Object></Delete>",
    b"<Delete><Quiet>true</Quiet><Object><Key>missing</Key><ETag>\"x\"</ETag></Object>"
    b"<Object><Key>dir/a</Key><VersionId>v</VersionId></Object></Delete>",
    b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"x\"</ETag></Part>"
    b"</CompleteMultipartUpload>",
    b"<CompleteMultipartUpload><Part><PartNumber>99999999999</PartNumber><ETag>x</ETag></Part>"
    b"</CompleteMultipartUpload>",
    b"<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>",
    b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET"
    b"</AllowedMethod></CORSRule></CORSConfiguration>",
    b"<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint>"
    b"</CreateBucketConfiguration>",
    b"<CreateBucketConfiguration><LocationConstraint>mars</LocationConstraint>"
    b"</CreateBucketConfiguration>",
    b"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
    b"\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::random-requests/*\"}]}",
    b"{",
    b"<OwnershipControls><Rule><ObjectOwnership>BucketOwnerPreferred</ObjectOwnership></Rule>"
    b"</OwnershipControls>",
    b"<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls>"
    b"</PublicAccessBlockConfiguration>",
    b"<AccessControlPolicy><Owner><ID>x</ID></Owner></AccessControlPolicy>",
    b"x" * 70000,
    b"<SelectObjectContentRequest/>",
    b"<RestoreRequest><Days>1</Days></RestoreRequest>"]
SPLICES = [b"<", b">", b"&", b"&amp;", b"\x00", b"<Part>", b"</Part>", b"99999999999999999999",
           b"-1", b"\xff"]


def mangle(body):
    """Half the time the body as it is; else cut, spliced or stuttered at random places."""
    if not body or rnd.random() < 0.5:
        return body
    b = bytearray(body)
    for _ in range(rnd.randint(1, 4)):
        i, op = rnd.randrange(len(b) + 1), rnd.random()
        if op < 0.4 and b:
            del b[i:i + rnd.randint(1, 8)]
        elif op < 0.8:
            b[i:i] = rnd.choice(SPLICES)
        else:
            b[i:i] = b[max(0, i - 20):i]
    return bytes(b)


def populate():
    """The bucket and a few objects, so that requests also meet things that exist."""
    send("PUT", f"/{BUCKET}")
    send("PUT", f"/{BUCKET}/obj", body=b"hello world" * 100)
    send("PUT", f"/{BUCKET}/empty")
    send("PUT", f"/{BUCKET}/big", body=os.urandom(2_200_000), payload_hash="UNSIGNED-PAYLOAD")
    send("PUT", f"/{BUCKET}/dir/a", body=b"a")


def draw():
    method = rnd.choice(["GET", "GET", "HEAD", "PUT", "PUT", "POST", "DELETE", "OPTIONS"])
    r = rnd.random()
    if r < 0.1:
        path = "/"
    elif r < 0.3:
        path = rnd.choice([f"/{BUCKET}", f"/{BUCKET}/", "/no-such-bucket", "/RANDOM", "/ab",
                           f"/{BUCKET}.", "/x/x/x"])
    else:
        path = f"/{BUCKET}/{rnd.choice(KEYS)}"
    query = []
    for _ in range(rnd.choice([0, 0, 1, 1, 2, 3, 4])):
        name = rnd.choice(PARAMS)
        if rnd.random() < 0.3:
            query.append(name)
        else:
            query.append(f"{name}={urllib.parse.quote(rnd.choice(PARAM_VALUES), safe='-_.~')}")
    if rnd.random() < 0.1:
        query.append("uploadId=" + rnd.choice(["x", "0", "", "%2F"]))
    headers = {rnd.choice(HEADERS): rnd.choice(HEADER_VALUES)
               for _ in range(rnd.choice([0, 1, 1, 2, 3, 5]))}
    body = mangle(rnd.choice(BODIES)) if method in ("PUT", "POST") else b""
    payload = rnd.choice([None, None, "UNSIGNED-PAYLOAD"])
    return method, path, "&".join(query), headers, body, payload


def model_operation(method, path, query):
    """(sub-resource, the model's operation for it or None) of a request whose query names a
    sub-resource (the first one, as the server picks it), else None. OPTIONS is a CORS
    preflight, which browsers send to any URL: outside the model."""
    if method == "OPTIONS":
        return None
    names = [urllib.parse.unquote(q.split("=")[0]) for q in query.split("&") if q]
    sub = next((n for n in names if n in SUBRESOURCE_NAMES), None)
    parts = path.strip("/").split("/", 1)
    if sub is None or path == "/" or not parts[0]:
        return None
    level = "object" if len(parts) > 1 and parts[1] else "bucket"
    return sub, SUBRESOURCES.get((level, sub), {}).get(method)


def not_implemented():
    """The model's sub-resource operations this server answers 501 NotImplemented to."""
    out = set()
    for (level, sub), methods in SUBRESOURCES.items():
        for method, name in methods.items():
            path = f"/{BUCKET}" + ("/obj" if level == "object" else "")
            status, _, _ = send(method, path, sub)
            if status == 501:
                out.add(name)
    return out


def listing():
    return send("GET", f"/{BUCKET}", "list-type=2")[2]


def problem(method, status, headers, data):
    if status >= 500 and status != 501:
        return f"status {status}"
    if "x-amz-request-id" not in headers:
        return "no x-amz-request-id"
    if status >= 400 and method != "HEAD" and data and not re.search(rb"<Code>\w+</Code>", data):
        return "an error without an S3 XML body"
    return None


failures, statuses = {}, Counter()
populate()
unbuilt = not_implemented()
print(f"{len(unbuilt)} sub-resource operations of the model answer NotImplemented")
populate()
for n in range(total):
    if n and n % 500 == 0:
        populate()  # random DELETEs remove what the requests should also meet
    method, path, query, headers, body, payload = draw()
    op = model_operation(method, path, query)
    before = listing() if op and method in ("PUT", "POST", "DELETE") else None
    try:
        status, got, data = send(method, path, query, headers, body, payload)
    except Exception as e:  # a dropped connection or a timeout
        status, got, data, kind = None, {}, b"", f"no answer: {type(e).__name__}"
    else:
        kind = problem(method, status, got, data)
        if kind is None and op and 200 <= status < 300 and (op[1] is None or op[1] in unbuilt):
            changed = "" if before is None else (
                ", and the listing changed" if listing() != before else "")
            what = "no operation" if op[1] is None else f"{op[1]}, not implemented"
            kind = f"2xx for ?{op[0]} ({what}){changed}"
    statuses[status] += 1
    if kind and kind not in failures:
        failures[kind] = (method, path[:80], query[:200], {k: v[:60] for k, v in headers.items()},
                          body[:120], status, data[:300])
send("GET", "/")  # still serving
print(f"{total} requests; statuses {sorted(statuses.items(), key=str)}")
for kind, example in failures.items():
    print(f"FAIL {kind}: {example}")
sys.exit(1 if failures else 0)
