"""Danish is the default language, English is available; every message of ours has a Danish translation."""

from __future__ import annotations

import gettext
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from candidates.models import Outcome, WeeklyStatus

LOCALE = Path(settings.BASE_DIR) / "locale"


def _h1(html: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert match, "the page has a heading"
    return match.group(1).strip()


@pytest.mark.django_db
def test_login_page_is_danish_by_default(client: Client) -> None:
    response = client.get(reverse("login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="da">' in html
    assert _h1(html) == "Log ind"
    assert "Brugernavn" in html and "Adgangskode" in html
    assert response.headers["Content-Language"] == "da"


@pytest.mark.django_db
def test_login_page_in_english_by_accept_language(client: Client) -> None:
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert _h1(html) == "Log in"
    assert "Username" in html and "Brugernavn" not in html


@pytest.mark.django_db
def test_language_cookie_wins_over_accept_language(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert _h1(html) == "Log in"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "da"
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert _h1(html) == "Log ind"


@pytest.mark.django_db
def test_the_language_switch_sets_the_cookie(client: Client) -> None:
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert _h1(client.get(reverse("login")).content.decode()) == "Log in"


def test_model_names_and_choices_are_translated() -> None:
    with translation.override("da"):
        assert str(WeeklyStatus._meta.verbose_name_plural) == "ugestatusser"
        assert str(Outcome.PARTIAL.label) == "Delvis"
    with translation.override("en"):
        assert str(WeeklyStatus._meta.verbose_name_plural) == "weekly statuses"
        assert str(Outcome.PARTIAL.label) == "Partial"


def test_validator_messages_are_translated() -> None:
    from django.core.exceptions import ValidationError

    from candidates.cpr import parse_cpr

    with translation.override("da"), pytest.raises(ValidationError) as raised:
        parse_cpr("310299-1234")
    assert raised.value.messages == ["CPR-nummeret begynder ikke med en gyldig fødselsdato (DDMMÅÅ)."]


def _entries(po: Path) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of every entry but the header; wrapped strings joined, plural forms joined by |."""
    entries: list[tuple[str, str, bool]] = []
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.strip().splitlines() if not line.startswith("#~")]
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        text = "\n".join(line for line in lines if not line.startswith("#"))
        match = re.search(r'^msgid ((?:".*"\s*)+)', text, re.M)
        if not match:
            continue
        msgid = "".join(re.findall(r'"(.*)"', match.group(1)))
        forms = [
            "".join(re.findall(r'"(.*)"', m)) for m in re.findall(r'^msgstr(?:\[\d+\])? ((?:".*"\s*)+)', text, re.M)
        ]
        if msgid:
            msgstr = "|".join(forms) if all(forms) else ""
            entries.append((msgid, msgstr, fuzzy))
    return entries


def test_every_danish_message_is_translated_and_compiled() -> None:
    po = LOCALE / "da" / "LC_MESSAGES" / "django.po"
    entries = _entries(po)
    assert len(entries) > 100
    untranslated = [msgid for msgid, msgstr, fuzzy in entries if not msgstr or fuzzy]
    assert untranslated == []
    for msgid, msgstr, _fuzzy in entries:
        for form in msgstr.split("|"):  # every plural form uses the msgid's placeholders
            assert set(re.findall(r"%\(\w+\)s", msgid)) == set(re.findall(r"%\(\w+\)s", form)), msgid
    # the compiled catalogue is the .po's: nobody forgot compilemessages
    with po.with_suffix(".mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    stale = [msgid for msgid, msgstr, _fuzzy in entries if _compiled(catalogue, msgid) != _po_unescape(msgstr)]
    assert stale == [], "run manage.py compilemessages"


def _compiled(catalogue: gettext.GNUTranslations, msgid: str) -> str:
    """The compiled translation of an entry in the form `_entries` gives it (plural forms joined by |)."""
    key = _po_unescape(msgid)
    if key in catalogue._catalog:  # type: ignore[attr-defined]
        return catalogue.gettext(key)
    return "|".join(catalogue.ngettext(key, key, n) for n in (1, 2))


def _po_unescape(text: str) -> str:
    return text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


SOURCE_SUFFIXES = (".py", ".html", ".txt")
NOT_SOURCE = {".venv", "var", ".git", "node_modules", "bench", "tests", "static", "locale", "__pycache__"}


def _copy_sources(target: Path) -> None:
    """The project's Python files and templates, so makemessages can run without touching the real catalogue."""
    root = Path(settings.BASE_DIR)
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_file() and path.suffix in SOURCE_SUFFIXES and not NOT_SOURCE & set(relative.parts):
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / relative)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs gettext (xgettext)")
def test_every_message_in_the_source_has_a_danish_translation(tmp_path: Path, monkeypatch: Any, settings: Any) -> None:
    """makemessages over a copy of the sources and catalogue finds nothing new: no string of ours stays English."""
    before = (LOCALE / "da" / "LC_MESSAGES" / "django.po").read_bytes()
    _copy_sources(tmp_path)
    shutil.copytree(LOCALE, tmp_path / "locale")
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)
    call_command("makemessages", locale=["da"], no_wrap=True, no_location=True, verbosity=0)
    entries = _entries(tmp_path / "locale" / "da" / "LC_MESSAGES" / "django.po")
    untranslated = [msgid for msgid, msgstr, fuzzy in entries if not msgstr or fuzzy]
    assert untranslated == [], "add Danish for these to locale/da/LC_MESSAGES/django.po and run compilemessages"
    assert (LOCALE / "da" / "LC_MESSAGES" / "django.po").read_bytes() == before  # the real catalogue untouched
