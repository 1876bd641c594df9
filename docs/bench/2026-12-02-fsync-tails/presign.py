import boto3, sys
from botocore.config import Config
n=int(sys.argv[1]); op=sys.argv[2]
c=boto3.client('s3',endpoint_url='http://127.0.0.1:9100',aws_access_key_id='benchkey',aws_secret_access_key='benchsecret123456',region_name='us-east-1',config=Config(signature_version='s3v4',s3={'addressing_style':'path'}))
try: c.create_bucket(Bucket='bench')
except Exception: pass
if op=='get': c.put_object(Bucket='bench',Key='g',Body=b'x'*4096)
with open(f'/tmp/pw/{op}.paths','w') as f:
  for i in range(n):
    u=c.generate_presigned_url('put_object' if op=='put' else 'get_object',Params={'Bucket':'bench','Key':f'put-{i}' if op=='put' else 'g'},ExpiresIn=36000)
    f.write(u.split('127.0.0.1:9100',1)[1]+'\n')
open('/tmp/pw/body','wb').write(b'y'*4096)
