"""Locust scenario of the load test (bench/loadtest.py starts it): consultants working the weekly status grid.

Each simulated consultant (logged in through the login form beforehand) repeatedly opens their grid, saves cells
through the htmx endpoint (as the grid's buttons do: POST with the CSRF header) and now and then opens
a candidate's page, with a think time between clicks. The server runs in production mode behind an
imagined TLS proxy: every request says X-Forwarded-Proto: https, and the login's cookies (Secure, which a
cookie jar sends over https only) travel as a Cookie header over the loopback's plain HTTP.

FastHttpUser (geventhttpclient) rather than HttpUser (requests): the load generator shares the two cores with
the server and PostgreSQL, and a cheaper client leaves more of them to what is measured.

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

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

USERS: list[dict[str, Any]] = json.loads(open(os.environ["LOADTEST_USERS"], encoding="utf-8").read())  # noqa: SIM115
_next_user = itertools.count()
HEADER_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')


class Consultant(FastHttpUser):
    wait_time = between(1, 3)  # a consultant reads the grid and picks an outcome between two clicks

    def on_start(self) -> None:
        # Logged in through the login form by bench/loadtest.py before the measured minute (a login costs a
        # deliberately slow password hash; 50 of them at once would measure that, not the grid).
        self.account = USERS[next(_next_user) % len(USERS)]
        self.origin = self.host.rstrip("/").replace("http://", "https://")
        cookies = "; ".join(f"{name}={value}" for name, value in self.account["cookies"].items())
        self.headers = {"X-Forwarded-Proto": "https", "Origin": self.origin, "Cookie": cookies}
        self.csrf = ""
        self.grid()

    @task(3)
    def grid(self) -> None:
        with self.client.get("/status-grid/", name="grid page", headers=self.headers, catch_response=True) as response:
            found = HEADER_TOKEN.search(response.text or "")
            if response.status_code != 200 or not found:
                response.failure(f"grid answered {response.status_code}")
            else:
                self.csrf = found.group(1)

    @task(6)
    def save_cell(self) -> None:
        candidate = random.choice(self.account["candidates"])
        week = random.choice(self.account["weeks"])
        with self.client.post(
            f"/status-grid/{candidate}/{week}/",
            data={"outcome": random.choice(["none", "partial", "full", "education"]), "note": ""},
            headers={
                **self.headers,
                "HX-Request": "true",
                "X-CSRFToken": self.csrf,
                "Referer": f"{self.origin}/status-grid/",
            },
            name="cell save",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or "cell-error" in (response.text or ""):
                response.failure(f"cell save answered {response.status_code}")

    @task(1)
    def candidate_page(self) -> None:
        candidate = random.choice(self.account["candidates"])
        with self.client.get(
            f"/candidates/{candidate}/", name="candidate page", headers=self.headers, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"candidate page answered {response.status_code}")
