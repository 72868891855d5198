"""Lists of red-letter forms: the ones a taxpayer filed, and the ones waiting for it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fapiao.accounts.service import Actor
from fapiao.redletter import rules
from fapiao.redletter.models import RedLetterForm
from fapiao.redletter.service import involving


def list_forms(
    session: Session,
    actor: Actor,
    role: str,
    state: str | None,
    *,
    limit: int,
    before: int | None,
) -> list[RedLetterForm]:
    """A page of forms the actor filed, or that wait for its answer, newest first. The
    caller expires the actor's lapsed forms first (expire_lapsed with actor=)."""
    if actor.taxpayer_id is None:
        return []
    query = select(RedLetterForm)
    if role == "to_confirm":
        query = query.where(
            RedLetterForm.initiator_taxpayer_id != actor.taxpayer_id, involving(actor)
        )
        if state is None:
            query = query.where(RedLetterForm.state.in_(rules.PENDING))
    else:
        query = query.where(RedLetterForm.initiator_taxpayer_id == actor.taxpayer_id)
    if state is not None:
        query = query.where(RedLetterForm.state == state)
    if before is not None:
        query = query.where(RedLetterForm.id < before)
    return list(session.scalars(query.order_by(RedLetterForm.id.desc()).limit(limit)))
