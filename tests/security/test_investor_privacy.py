"""No personal data to investors (issue #7, part 2): small counts as "<5", and the matrix's scanner proven able to see.

The matrix (test_access_matrix.py) scans every response to the investor; the tests here show that its
text extraction reads what a person would read in each format (so a clean scan means something), and
that the investor's dashboard hides the small counts of a small contract.
"""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from tests.security.routes import response_text
from tests.security.world import World


def _client(world: World, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def _figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert match, f"no {name} figure on the page"
    return match.group(1).strip()


def test_the_investor_sees_small_counts_as_less_than_5(world: World) -> None:
    """Contract A has three candidates: the coordinator sees 3, the investor "<5", in page and export."""
    a = world.side("A")
    url = reverse("dashboard:contract", kwargs={"code": a.code})
    referred = a.contract.candidates.count()
    assert 0 < referred < 5

    coordinator_page = _client(world, "coordinator_a").get(url).content.decode()
    investor_page = _client(world, "investor").get(url).content.decode()
    assert _figure(coordinator_page, "referred") == str(referred)
    assert _figure(investor_page, "referred") == "&lt;5"

    index = _client(world, "investor").get(reverse("dashboard:index")).content.decode()
    assert "&lt;5" in index

    export = response_text(_client(world, "investor").get(reverse("dashboard:export_csv", kwargs={"code": a.code})))
    assert "<5" in export


def test_the_scanner_reads_every_download_format(world: World) -> None:
    """What the matrix scans is the text a reader sees: the coordinator's downloads show the refs it looks for."""
    a = world.side("A")
    client = _client(world, "coordinator_a")
    ref = a.candidate.ref
    for name in ("billing:invoice_pdf", "billing:invoice_xlsx", "billing:invoice_csv", "api:invoice_pdf"):
        response = client.get(reverse(name, kwargs={"number": a.document.number}))
        assert response.status_code == 200, name
        assert ref in response_text(response), f"{name}: the scanner cannot read the candidate ref"
    bundle = client.get(reverse("billing:invoice_bundle"), {"contract": a.code})
    assert bundle["Content-Type"] == "application/zip"
    text = response_text(bundle)
    assert ref in text and ".pdf" in text and ".xlsx" in text


def test_the_scanner_finds_personal_data_where_a_role_may_see_it(world: World) -> None:
    """The candidate page shows the consultant the name and masked CPR: the markers the investor scan uses."""
    a = world.side("A")
    page = response_text(
        _client(world, "consultant_a").get(reverse("candidates:detail", kwargs={"pk": a.candidate.pk}))
    )
    found = [marker for marker in a.personal_data() if marker in page]
    assert a.candidate.name in found
    assert f"{a.cprs[0][:6]}-XXXX" in found
