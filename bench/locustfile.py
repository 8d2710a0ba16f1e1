"""Locust scenario of the load test (bench/loadtest.py starts it): consultants working the weekly status grid.

Each simulated consultant (logged in through the login form beforehand) repeatedly opens their grid, saves cells
through the htmx endpoint (as the grid's buttons do: POST with the CSRF header) and now and then opens
a candidate's page, with a think time between clicks. The server runs in production mode behind an
imagined TLS proxy: every request says X-Forwarded-Proto: https, and the Secure flag is taken off the
client's cookies after each response so that they travel over the loopback's plain HTTP.

Environment: LOADTEST_USERS (JSON file: [{"username", "cookies": {name: value}, "candidates": [ids],
"weeks": ["YYYY-Www"]}]).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from typing import Any

from locust import HttpUser, between, task

USERS: list[dict[str, Any]] = json.loads(open(os.environ["LOADTEST_USERS"], encoding="utf-8").read())  # noqa: SIM115
_next_user = itertools.count()
HEADER_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')


class Consultant(HttpUser):
    wait_time = between(1, 3)  # a consultant reads the grid and picks an outcome between two clicks

    def on_start(self) -> None:
        # Logged in through the login form by bench/loadtest.py before the measured minute (a login costs a
        # deliberately slow password hash; 50 of them at once would measure that, not the grid).
        self.account = USERS[next(_next_user) % len(USERS)]
        self.origin = self.host.rstrip("/").replace("http://", "https://")
        self.client.headers.update({"X-Forwarded-Proto": "https", "Origin": self.origin})
        for name, value in self.account["cookies"].items():
            self.client.cookies.set(name, value)
        self.csrf = ""
        self.grid()

    def _insecure_cookies(self) -> None:
        # Django set them Secure (production over HTTPS); the jar sends Secure cookies only over https.
        for cookie in self.client.cookies:
            cookie.secure = False

    @task(3)
    def grid(self) -> None:
        with self.client.get("/status-grid/", name="grid page", catch_response=True) as response:
            found = HEADER_TOKEN.search(response.text)
            if response.status_code != 200 or not found:
                response.failure(f"grid answered {response.status_code}")
            else:
                self.csrf = found.group(1)
        self._insecure_cookies()

    @task(6)
    def save_cell(self) -> None:
        candidate = random.choice(self.account["candidates"])
        week = random.choice(self.account["weeks"])
        with self.client.post(
            f"/status-grid/{candidate}/{week}/",
            data={"outcome": random.choice(["none", "partial", "full", "education"]), "note": ""},
            headers={"HX-Request": "true", "X-CSRFToken": self.csrf, "Referer": f"{self.origin}/status-grid/"},
            name="cell save",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or "cell-error" in response.text:
                response.failure(f"cell save answered {response.status_code}")
        self._insecure_cookies()

    @task(1)
    def candidate_page(self) -> None:
        candidate = random.choice(self.account["candidates"])
        self.client.get(f"/candidates/{candidate}/", name="candidate page")
        self._insecure_cookies()
