"""Finished videos delivered to object storage (optional: ``cadence[storage]``).

`target` parses where (``s3://bucket/folder``, ``gs://bucket/folder``); `objects` uploads a
finished item's files there through fsspec (s3fs, gcsfs) and checks each one by size and
checksum before its address is recorded.
"""
