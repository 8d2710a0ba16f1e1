"""Weekly status import (SPEC section 4): CSV rules, all or nothing, corrections of settled weeks, the command."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from candidates.models import Candidate, WeeklyStatus
from candidates.services import weekly_status_import, weekly_status_import_csv, weekly_status_upsert
from common import weeks
from organisations.models import Contract
from tests.factories import CandidateFactory, ContractFactory, UserFactory

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2021, 3, 10, 12, 0, tzinfo=weeks.COPENHAGEN)  # 2021-W10


@pytest.fixture
def contract() -> Contract:
    contract = ContractFactory(
        code="IMP", first_week=weeks.parse_week("2020-W01"), last_week=weeks.parse_week("2022-W52")
    )
    CandidateFactory(contract=contract, ref="C001", referred_on=date(2020, 1, 1), cpr="0101801111")
    CandidateFactory(contract=contract, ref="C002", referred_on=date(2020, 3, 2), enrolled_on=None, cpr="0202802222")
    return contract


def run(contract: Contract, text: str | bytes, **kwargs):  # type: ignore[no-untyped-def]
    return weekly_status_import_csv(contract=contract, content=text, now=kwargs.pop("now", NOW), **kwargs)


def stored(contract: Contract) -> dict[tuple[str, str], tuple[str, Decimal | None, str]]:
    return {
        (s.candidate.ref, s.week_label): (s.outcome, s.hours, s.note)
        for s in WeeklyStatus.objects.filter(candidate__contract=contract).select_related("candidate")
    }


def test_import_creates_statuses_with_recorder_and_history(contract: Contract) -> None:
    user = UserFactory()
    result = run(
        contract,
        "candidate,week,outcome,hours\nC001,2020-W02,full,37\nC001,2020-W03,partial,12.5\nC002,2020-W10,none,\n",
        user=user,
    )
    assert result.ok and (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert stored(contract) == {
        ("C001", "2020-W02"): ("full", Decimal("37.00"), ""),
        ("C001", "2020-W03"): ("partial", Decimal("12.50"), ""),
        ("C002", "2020-W10"): ("none", None, ""),
    }
    status = WeeklyStatus.objects.get(candidate__ref="C001", week=weeks.parse_week("2020-W02"))
    assert status.recorded_by == user and status.recorded_at == NOW
    history = status.history.get()
    assert history.history_type == "+" and history.history_user == user


def test_bom_semicolon_other_column_order_and_decimal_comma(contract: Contract) -> None:
    content = "\ufeffOutcome ; Hours;WEEK;candidate;note\r\npartial;12,5;2020-W05;C001;første uge\r\n".encode()
    result = run(contract, content)
    assert result.ok, result.errors
    assert stored(contract) == {("C001", "2020-W05"): ("partial", Decimal("12.50"), "første uge")}


def test_upsert_updates_changed_rows_and_leaves_identical_ones(contract: Contract) -> None:
    assert run(contract, "candidate,week,outcome\nC001,2020-W02,full\nC001,2020-W03,partial\n").created == 2
    result = run(contract, "candidate,week,outcome\nC001,2020-W02,full\nC001,2020-W03,full\nC002,2020-W10,education\n")
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert stored(contract)[("C001", "2020-W03")][0] == "full"
    unchanged = WeeklyStatus.objects.get(candidate__ref="C001", week=weeks.parse_week("2020-W02"))
    assert unchanged.history.count() == 1  # an identical row writes nothing, not even history


def test_hours_are_kept_without_an_hours_column_and_cleared_by_an_empty_cell(contract: Contract) -> None:
    run(contract, "candidate,week,outcome,hours\nC001,2020-W02,partial,12\n")
    assert run(contract, "candidate,week,outcome\nC001,2020-W02,partial\n").unchanged == 1
    assert run(contract, "candidate,week,outcome\nC001,2020-W02,full\n").updated == 1
    assert stored(contract)[("C001", "2020-W02")] == ("full", Decimal("12.00"), "")
    assert run(contract, "candidate,week,outcome,hours\nC001,2020-W02,full,\n").updated == 1
    assert stored(contract)[("C001", "2020-W02")] == ("full", None, "")


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_stored(contract: Contract) -> None:
    content = (
        "candidate,week,outcome,hours\n"  # line 1
        "C001,2020-W02,full,10\n"  # 2: fine, but must not be stored
        "C999,2020-W02,full,\n"  # 3: unknown candidate
        "C001,2020-40,full,\n"  # 4: bad week
        "C001,2021-W53,full,\n"  # 5: week 53 that does not exist
        "C001,2021-W30,full,\n"  # 6: future (now is 2021-W10)
        "C002,2020-W05,full,\n"  # 7: before referral (C002 referred in 2020-W10)
        "C001,2020-W06,fuld,\n"  # 8: unknown outcome
        "C001,2020-W07,partial,200\n"  # 9: bad hours
        "C001,2020-W08,partial,abc\n"  # 10: bad hours
        "C001,2020-W02,none,\n"  # 11: duplicate of line 2
        "C001,2020-W09,full\n"  # 12: wrong number of fields
        "C001,2020-W11,full,-1\n"  # 13: bad hours
    )
    result = run(contract, content)
    assert not result.ok
    lines = [str(e) for e in result.errors]
    expectations = {
        3: "unknown candidate 'C999'",
        4: "bad week '2020-40'",
        5: "2021-W53 does not exist",
        6: "week in the future",
        7: "week before referral",
        8: "unknown outcome 'fuld'",
        9: "bad hours '200'",
        10: "bad hours 'abc'",
        11: "duplicate row: candidate C001 week 2020-W02 is already on line 2",
        12: "wrong number of fields: expected 4",
        13: "bad hours '-1'",
    }
    for line, reason in expectations.items():
        assert any(text.startswith(f"line {line}: ") and reason in text for text in lines), (line, lines)
    assert {e.where for e in result.errors} == {f"line {n}" for n in expectations}
    assert WeeklyStatus.objects.count() == 0


def test_missing_required_column_is_reported_on_line_1(contract: Contract) -> None:
    result = run(contract, "candidate;outcome\nC001;full\n")
    assert [str(e) for e in result.errors] == [
        "line 1: missing required column 'week' (the header is candidate,week,outcome[,hours][,note])"
    ]
    assert "unknown column 'comment'" in str(
        run(contract, "candidate,week,outcome,comment\nC001,2020-W02,full,x\n").errors[0]
    )
    assert WeeklyStatus.objects.count() == 0


def test_week_53_exists_only_in_long_years(contract: Contract) -> None:
    CandidateFactory(contract=contract, ref="C003", referred_on=date(2020, 12, 1), enrolled_on=None, cpr="0303803333")
    assert run(contract, "candidate,week,outcome\nC003,2020-W53,full\n").created == 1
    result = run(
        contract, "candidate,week,outcome\nC003,2021-W53,full\n", now=datetime(2022, 3, 1, tzinfo=weeks.COPENHAGEN)
    )
    assert [str(e) for e in result.errors] == ["line 2: 2021-W53 does not exist: bad week (2021 has 52 weeks)"]


def test_current_week_is_allowed_and_the_clock_is_copenhagen(contract: Contract) -> None:
    # Sunday 2021-03-14 23:30 UTC is already Monday of 2021-W11 in Copenhagen.
    late_sunday_utc = datetime(2021, 3, 14, 23, 30, tzinfo=weeks.ZoneInfo("UTC"))
    assert run(contract, "candidate,week,outcome\nC001,2021-W11,full\n", now=late_sunday_utc).created == 1


def test_correction_of_a_settled_week_needs_a_note_and_is_audited(contract: Contract) -> None:
    consultant = UserFactory(username="konsulent")
    assert run(contract, "candidate,week,outcome\nC001,2020-W02,full\nC001,2020-W03,partial\n").created == 2
    Contract.objects.filter(pk=contract.pk).update(settled_through=weeks.parse_week("2020-W05"))

    refused = run(contract, "candidate,week,outcome\nC001,2020-W02,none\n")
    assert [str(e) for e in refused.errors] == [
        "line 2: correction of settled week 2020-W02 needs a reason in the note column (C001: full -> none)"
    ]
    assert stored(contract)[("C001", "2020-W02")][0] == "full"

    # A new status in a settled week and an unchanged outcome need no note; a correction with a note passes.
    result = run(
        contract,
        "candidate,week,outcome,hours,note\n"
        "C001,2020-W02,none,,Job ended 2020-01-05 according to the employer\n"
        "C001,2020-W03,partial,8,\n"
        "C001,2020-W04,full,,\n",
        user=consultant,
    )
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (1, 2, 0)
    status = WeeklyStatus.objects.get(candidate__ref="C001", week=weeks.parse_week("2020-W02"))
    assert status.outcome == "none" and status.note == "Job ended 2020-01-05 according to the employer"
    newest, previous = status.history.order_by("-history_id")[:2]
    assert newest.history_type == "~" and newest.history_user == consultant and newest.history_date == NOW
    assert newest.history_change_reason == "Job ended 2020-01-05 according to the employer"
    assert (previous.outcome, newest.outcome) == ("full", "none")


def test_weeks_before_the_payment_period_are_never_settled(contract: Contract) -> None:
    """B6 settles only first_week..last_week: a status recorded before the period (from the referral week on)
    is corrected without a reason, however far the contract is settled; the grid does not mark it settled."""
    early = CandidateFactory(contract=contract, ref="C003", referred_on=date(2019, 11, 4))  # 2019-W45
    assert run(contract, "candidate,week,outcome\nC003,2019-W50,partial\nC003,2020-W02,full\n").created == 2
    Contract.objects.filter(pk=contract.pk).update(settled_through=weeks.parse_week("2020-W05"))
    contract.refresh_from_db()
    assert not contract.is_week_settled(weeks.parse_week("2019-W50"))
    assert contract.is_week_settled(weeks.parse_week("2020-W01"))

    result = run(contract, "candidate,week,outcome\nC003,2019-W50,none\nC003,2020-W02,none\n")
    assert [str(e) for e in result.errors] == [
        "line 3: correction of settled week 2020-W02 needs a reason in the note column (C003: full -> none)"
    ]
    assert run(contract, "candidate,week,outcome\nC003,2019-W50,none\n").updated == 1
    status = weekly_status_upsert(candidate=early, week="2019-W51", outcome="full", now=NOW)
    status = weekly_status_upsert(candidate=early, week="2019-W51", outcome="none", now=NOW)
    assert status.outcome == "none"


def test_locked_contract_refuses_every_row(contract: Contract) -> None:
    run(contract, "candidate,week,outcome\nC001,2020-W02,full\n")
    Contract.objects.filter(pk=contract.pk).update(settled_through=contract.last_week)
    result = run(contract, "candidate,week,outcome,note\nC001,2020-W02,none,fix\nC001,2020-W03,full,\n")
    assert [e.where for e in result.errors] == ["line 2", "line 3"]
    assert all("locked contract" in str(e) for e in result.errors)
    assert stored(contract) == {("C001", "2020-W02"): ("full", None, "")}


def test_single_cell_upsert_shares_the_rules(contract: Contract) -> None:
    candidate = contract.candidates.get(ref="C001")
    status = weekly_status_upsert(candidate=candidate, week="2020-W02", outcome="partial", hours="12,5", now=NOW)
    assert (status.outcome, status.hours) == ("partial", Decimal("12.50"))
    status = weekly_status_upsert(candidate=candidate, week=weeks.parse_week("2020-W02"), outcome="full", now=NOW)
    assert status.outcome == "full" and WeeklyStatus.objects.count() == 1
    with pytest.raises(ValidationError) as excinfo:
        weekly_status_upsert(candidate=candidate, week="2021-W30", outcome="full", now=NOW)
    assert excinfo.value.error_dict["week"][0].code == "future_week"
    Contract.objects.filter(pk=contract.pk).update(settled_through=weeks.parse_week("2020-W05"))
    with pytest.raises(ValidationError) as excinfo:
        weekly_status_upsert(candidate=candidate, week="2020-W02", outcome="none", now=NOW)
    assert excinfo.value.error_dict["note"][0].code == "reason_required"


def _rows(count: int) -> list[dict[str, object]]:
    refs = [f"Q{n:03d}" for n in range(count // 10)]
    return [
        {"line": i + 2, "candidate": refs[i // 10], "week": f"2020-W{i % 10 + 2:02d}", "outcome": "full", "hours": "10"}
        for i in range(count)
    ]


def test_query_count_does_not_grow_with_the_number_of_rows(
    contract: Contract,
    django_assert_max_num_queries,
    is_postgres: bool,  # type: ignore[no-untyped-def]
) -> None:
    for n in range(50):
        CandidateFactory(contract=contract, ref=f"Q{n:03d}", referred_on=date(2020, 1, 1), cpr=f"150370{n:04d}")
    counts = {}
    for size in (10, 500):
        rows = _rows(size)
        WeeklyStatus.objects.all().delete()
        # The rows reach a temporary table in one statement (COPY; executemany on SQLite), the checks and the
        # writes are set statements: lock, stage, plan, check, insert, update, history, drop (+ savepoint).
        limit = 11 if is_postgres else 13  # SQLite drops the two temporary tables one by one
        with django_assert_max_num_queries(limit) as created:
            assert weekly_status_import(contract=contract, rows=rows, now=NOW).created == size
        for row in rows:
            row["outcome"] = "partial"
        with django_assert_max_num_queries(limit) as updated:
            assert weekly_status_import(contract=contract, rows=rows, now=NOW).updated == size
        counts[size] = (len(created), len(updated))
    assert counts[10] == counts[500], counts


# --- the command ----------------------------------------------------------------------------------


def test_command_prints_counts(contract: Contract, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "status.csv"
    path.write_text("candidate;week;outcome\nC001;2020-W02;full\nC002;2020-W10;partial\n", encoding="utf-8")
    call_command("import_weekly_status", "--contract", "IMP", str(path))
    assert "2 created, 0 updated, 0 unchanged" in capsys.readouterr().out
    call_command("import_weekly_status", "--contract", "IMP", str(path))
    assert "0 created, 0 updated, 2 unchanged" in capsys.readouterr().out


def test_command_lists_every_error_and_stores_nothing(contract: Contract, tmp_path: Path) -> None:
    path = tmp_path / "status.csv"
    path.write_text("candidate,week,outcome\nC001,2020-W02,full\nC404,2020-W02,full\nC001,2020-W03,bad\n")
    with pytest.raises(CommandError) as excinfo:
        call_command("import_weekly_status", "--contract", "IMP", str(path))
    message = str(excinfo.value)
    assert "\nline 3: unknown candidate 'C404'" in message and "\nline 4: unknown outcome 'bad'" in message
    assert WeeklyStatus.objects.count() == 0


def test_command_refuses_an_unknown_contract_or_file(contract: Contract, tmp_path: Path) -> None:
    path = tmp_path / "status.csv"
    path.write_text("candidate,week,outcome\n")
    with pytest.raises(CommandError, match="Unknown contract code 'NOPE'"):
        call_command("import_weekly_status", "--contract", "NOPE", str(path))
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_weekly_status", "--contract", "IMP", str(tmp_path / "missing.csv"))


@pytest.mark.slow
def test_commands_through_manage_py(tmp_path: Path) -> None:
    """The real process: exit codes and output of load_scenario and import_weekly_status on a fresh database."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SQLITE_PATH"}}
    env |= {"DJANGO_VAR_DIR": str(tmp_path / "var"), "SQLITE_PATH": str(tmp_path / "db.sqlite3")}

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )

    assert manage("migrate", "--no-input").returncode == 0
    loaded = manage("load_scenario", str(REPO / "tests" / "data" / "scenario.example.json"))
    assert loaded.returncode == 0, loaded.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("candidate,week,outcome\nC001,2018-W50,full\nC001,2018-W30,full\nC009,2018-W50,full\n")
    failed = manage("import_weekly_status", "--contract", "DEMO1", str(bad))
    assert failed.returncode != 0
    assert "line 3: week before referral" in failed.stderr and "line 4: unknown candidate 'C009'" in failed.stderr
    good = tmp_path / "good.csv"
    good.write_text("candidate,week,outcome\nC001,2018-W50,full\nC001,2018-W46,full\n")
    passed = manage("import_weekly_status", "--contract", "DEMO1", str(good))
    assert passed.returncode == 0, passed.stderr
    assert "1 created, 0 updated, 1 unchanged" in passed.stdout


# --- the set-based checks: what needs stored data is decided in SQL, reported with the rows' lines ----------


def test_stored_data_problems_are_merged_with_cell_problems_in_line_and_field_order(contract: Contract) -> None:
    run(contract, "candidate,week,outcome\nC001,2020-W02,full\n")
    Contract.objects.filter(pk=contract.pk).update(settled_through=weeks.parse_week("2020-W05"))
    content = (
        "candidate,week,outcome\n"
        "C999,2020-W03,fuld\n"  # 2: unknown candidate, then unknown outcome
        "C999,2020-W03,full\n"  # 3: unknown candidate only: a repeat of an unknown candidate is no duplicate
        "C002,2020-W05,bad\n"  # 4: before referral, then unknown outcome
        "C001,2020-W02,none\n"  # 5: correction of a settled week without a note
        "C001,2020-W02,partial\n"  # 6: duplicate of line 5 (and no second reason error)
        "C001,2020-W04,bad\n"  # 7: unknown outcome; its repeat on line 8 is a duplicate all the same
        "C001,2020-W04,full\n"  # 8
    )
    result = run(contract, content)
    assert [str(e) for e in result.errors] == [
        "line 2: unknown candidate 'C999' (no candidate with that ref in IMP)",
        "line 2: unknown outcome 'fuld' (use none, partial, full or education)",
        "line 3: unknown candidate 'C999' (no candidate with that ref in IMP)",
        "line 4: week before referral: 2020-W05 is before C002's referral week 2020-W10",
        "line 4: unknown outcome 'bad' (use none, partial, full or education)",
        "line 5: correction of settled week 2020-W02 needs a reason in the note column (C001: full -> none)",
        "line 6: duplicate row: candidate C001 week 2020-W02 is already on line 5",
        "line 7: unknown outcome 'bad' (use none, partial, full or education)",
        "line 8: duplicate row: candidate C001 week 2020-W04 is already on line 7",
    ]
    assert stored(contract) == {("C001", "2020-W02"): ("full", None, "")}


def test_api_rows_are_reported_by_path_and_a_long_note_fits_the_history(contract: Contract) -> None:
    rows = [
        {"path": "weekly_status[0]", "candidate": "C001", "week": "2020-W02", "outcome": "full"},
        {"path": "weekly_status[1]", "candidate": "C404", "week": "2020-W02", "outcome": "full"},
    ]
    result = weekly_status_import(contract=contract, rows=rows, now=NOW)
    assert [str(e) for e in result.errors] == [
        "weekly_status[1].candidate: unknown candidate 'C404' (no candidate with that ref in IMP)"
    ]
    note = "Arbejdsgiveren bekræfter " * 12  # 300 characters: the history's reason column holds 100
    result = weekly_status_import(contract=contract, rows=[{**rows[0], "note": note.strip()}], now=NOW)
    assert result.created == 1
    status = WeeklyStatus.objects.get(candidate__ref="C001")
    assert status.note == note.strip()
    assert status.history.get().history_change_reason == note.strip()[:100]


def test_a_large_import_creates_updates_and_keeps_history_like_a_small_one(contract: Contract) -> None:
    """Past ANALYZE_FROM rows the temporary tables get statistics; the outcome must be the same."""
    user = UserFactory()
    monday = weeks.parse_week("2020-W10")
    rows = [
        {"line": n + 2, "candidate": "C001" if n % 2 else "C002", "week": weeks.format_week(monday), "outcome": "full"}
        for n in range(2)
    ]
    for n in range(2, 2600):
        rows.append({"line": n + 2, "candidate": f"C{n:04d}", "week": "2020-W11", "outcome": "partial"})
    Candidate.objects.bulk_create(
        Candidate(contract=contract, ref=f"C{n:04d}", referred_on=date(2020, 1, 1)) for n in range(2, 2600)
    )
    result = weekly_status_import(contract=contract, rows=rows, user=user, now=NOW)
    assert (result.created, result.updated, result.unchanged) == (2600, 0, 0)
    for row in rows[:1000]:
        row["outcome"] = "none"
    result = weekly_status_import(contract=contract, rows=rows, user=user, now=NOW)
    assert (result.created, result.updated, result.unchanged) == (0, 1000, 1600)
    history = WeeklyStatus.history.filter(candidate__contract=contract)  # type: ignore[attr-defined]
    assert history.filter(history_type="+").count() == 2600 and history.filter(history_type="~").count() == 1000
    assert set(history.values_list("history_user", flat=True)) == {user.pk}
    assert WeeklyStatus.objects.filter(candidate__contract=contract, outcome="none").count() == 1000


def test_rows_sharing_checked_cells_still_get_their_own_problems_and_values(contract: Contract) -> None:
    """Each distinct combination of week, outcome, hours and note texts is checked once and reused: a later
    row with the same cells but a missing or unknown candidate is still reported on its own line; JSON
    numbers and text that needs quoting (commas, quotes, tabs, line breaks, backslashes) keep their values."""
    CandidateFactory(contract=contract, ref='C,"3"\t\\', referred_on=date(2020, 1, 1))
    rows = [
        {"path": "s[0]", "candidate": "C001", "week": "2020-W02", "outcome": "full", "hours": 7, "note": ""},
        {"path": "s[1]", "candidate": " ", "week": "2020-W02", "outcome": "full", "hours": 7, "note": ""},
        {"path": "s[2]", "candidate": "C404", "week": "2020-W02", "outcome": "full", "hours": 7, "note": ""},
        {"path": "s[3]", "candidate": "C001", "week": ["2020-W03"], "outcome": "full"},
    ]
    result = weekly_status_import(contract=contract, rows=rows, now=NOW)
    assert [str(e) for e in result.errors] == [
        "s[1].candidate: missing candidate (the candidate's ref)",
        "s[2].candidate: unknown candidate 'C404' (no candidate with that ref in IMP)",
        "s[3].week: bad week '['2020-W03']': '['2020-W03']' is not a week in the form YYYY-Www (e.g. 2020-W53)",
    ]
    note = 'ringede, "mødte op"\tkl. 9\nC:\\sti'
    rows = [
        {"path": "s[0]", "candidate": "C001", "week": "2020-W02", "outcome": "full", "hours": 7, "note": note},
        {"path": "s[1]", "candidate": ' C,"3"\t\\ ', "week": "2020-W02", "outcome": "partial", "hours": "7,5"},
        {"path": "s[2]", "candidate": 'C,"3"\t\\', "week": "2020-W03", "outcome": "none", "hours": None},
    ]
    result = weekly_status_import(contract=contract, rows=rows, now=NOW)
    assert result.ok and result.created == 3, result.errors
    assert stored(contract) == {
        ("C001", "2020-W02"): ("full", Decimal("7.00"), note),
        ('C,"3"\t\\', "2020-W02"): ("partial", Decimal("7.50"), ""),
        ('C,"3"\t\\', "2020-W03"): ("none", None, ""),
    }
