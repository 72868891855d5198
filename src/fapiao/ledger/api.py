"""Public receipt-signing keys."""

from __future__ import annotations

from fastapi import APIRouter

from fapiao.http.deps import PlatformDep
from fapiao.http.openapi import PUBLIC_PROBLEMS
from fapiao.http.responses import JSONResponse
from fapiao.ledger.schemas import KeySet
from fapiao.ledger.signing import published_keys

router = APIRouter(prefix="/api/v1", tags=["receipts"], responses=PUBLIC_PROBLEMS)


@router.get("/keys", response_model=KeySet)
def list_keys(platform: PlatformDep) -> JSONResponse:
    """Every public key the platform has signed receipts with (no sign-in needed): save
    it to check receipts offline with `fapiao receipt verify FILE --key KEYS.json`."""
    with platform.database.transaction(write=False) as session:
        return JSONResponse({"keys": published_keys(session)})
