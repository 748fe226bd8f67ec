"""What a render cluster's worker offers (``cadence worker --resources GPU=1``) and what a job
needs from one (``--needs GPU=1``): names with amounts, as Dask's worker resources."""

from __future__ import annotations

from typing import Any

from app.domain.errors import UserError


def parse_resources(text: str | None, what: str = "--resources") -> dict[str, float]:
    """``GPU=1,MEMORY=8e9`` → {"GPU": 1.0, "MEMORY": 8e9}; a clear error (naming ``what``)
    for anything else."""
    found: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in (text or "").replace(" ", ",").split(","))):
        name, sep, amount = part.partition("=")
        try:
            if not (sep and name.strip()):
                raise ValueError
            value = float(amount)
            if not 0 < value < float("inf"):
                raise ValueError
            found[name.strip()] = value
        except ValueError:
            raise UserError(
                f"{what}: {part!r} is not NAME=AMOUNT with a positive amount (for example GPU=1)"
            ) from None
    return found


def shown(resources: dict[str, float]) -> str:
    """{"GPU": 1.0} → "GPU=1"."""
    return ",".join(f"{name}={amount:g}" for name, amount in sorted(resources.items()))


def offers(offered: dict[str, float], needs: dict[str, float]) -> bool:
    return all(offered.get(name, 0) >= amount for name, amount in needs.items())


def worker_label(worker: dict[str, Any]) -> str:
    """``w1 (2 at a time, GPU=1, shared folder)``: a render cluster's worker, as the
    cluster's executor describes it, in words."""
    offered = "".join(f", {k}={v:g}" for k, v in sorted((worker.get("resources") or {}).items()))
    shared = ", shared folder" if worker.get("shared") else ""
    return f"{worker['name']} ({worker['threads']} at a time{offered}{shared})"
