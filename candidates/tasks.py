"""Celery tasks of the candidates app: importing an uploaded weekly status file; monthly pseudonymisation."""

from __future__ import annotations

import logging

from celery import shared_task

from candidates.models import WeeklyStatusUpload
from candidates.personal_data import candidates_pseudonymise_due
from candidates.workspace_services import weekly_status_upload_crashed, weekly_status_upload_process

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def process_weekly_status_upload(upload_id: int) -> str:
    """Import one uploaded file (all or nothing) and return its final state; a finished upload is left alone."""
    upload = WeeklyStatusUpload.objects.get(pk=upload_id)
    try:
        return weekly_status_upload_process(upload=upload).state
    except Exception as exc:  # the page polls until the upload finishes, so it must finish (and re-raise)
        logger.exception("weekly status upload %s failed", upload_id)
        weekly_status_upload_crashed(upload_id=upload_id, error=type(exc).__name__)
        raise


@shared_task(acks_late=True)
def pseudonymise_candidates_past_retention() -> dict[str, int]:
    """Monthly: erase the personal data of contracts past retention (idempotent: a second run finds nothing)."""
    return {result.contract: result.candidates for result in candidates_pseudonymise_due()}
