"""Moves an s3:// object to a local file with boto3: downloads it, then deletes it, so a later run
cannot be judged by an earlier run's object (for conformance cases whose output is in S3)."""
import os
import sys

import boto3

url, target = sys.argv[1], sys.argv[2]
bucket, key = url[len("s3://"):].split("/", 1)
client = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
client.download_file(bucket, key, target)
client.delete_object(Bucket=bucket, Key=key)
