"""A real Celery worker subprocess over real Redis, against the test database (PostgreSQL only: the
worker process must reach the committed test data). Used as the `worker` fixture by the worker tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def worker() -> Iterator[tuple[Celery, str]]:
    """A worker on its own queue; yields a client app sending to that queue, and the queue's name."""
    if not _redis_reachable():
        if os.environ.get("REDIS_URL"):
            pytest.fail(f"REDIS_URL={REDIS_URL} is set but Redis does not answer")
        pytest.skip("Redis is not running")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CELERY_QUEUE": queue,  # tasks the worker enqueues itself (e.g. the fan-out) stay on this queue
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-P", "solo", "-l", "info",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    # Not the current app: the shared tasks (and the patches on them) must keep resolving to the project's app.
    client = Celery(broker=REDIS_URL, backend=REDIS_URL, set_as_current=False)
    client.conf.task_default_queue = queue
    yield client, queue
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    client.close()
