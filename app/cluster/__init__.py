"""Rendering on a Dask cluster of the user's own computers (optional: ``cadence-studio[cluster]``).

The desktop keeps the database and decides what runs; the Dask scheduler is only a transport.
`remote` holds what runs on a worker, `executor` the desktop's side, `worker` the
``cadence worker`` command.
"""
