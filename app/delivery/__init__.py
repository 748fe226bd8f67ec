"""Finished videos delivered to object storage (optional: ``cadence-studio[storage]``).

`app.domain.storage` parses where (``s3://bucket/folder``, ``gs://…``); `objects` uploads a
finished item's files there through fsspec (s3fs, gcsfs) and checks each one by size and
checksum before its address is recorded.
"""
