"""Seed the kontanthjælp rates (aged 30+, DKK per month) published for 2014-2024; the years between are
interpolated linearly, rounded to whole kroner, and marked as estimates."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations

PUBLISHED = {
    # year: (without children, with children)
    2014: (10689, 14203),
    2016: (10968, 14575),
    2017: (11143, 14808),
    2018: (11282, 14993),
    2021: (11698, 15547),
    2023: (11944, 15874),
    2024: (12326, 16382),
}
SOURCE = "Kontanthjælpssatser for personer fyldt 30 år (Beskæftigelsesministeriet)"


def _rates():
    years = sorted(PUBLISHED)
    for low, high in zip(years, years[1:]):
        yield low, PUBLISHED[low], False
        for year in range(low + 1, high):
            share = Decimal(year - low) / Decimal(high - low)
            yield (
                year,
                tuple(
                    (Decimal(a) + (Decimal(b) - Decimal(a)) * share).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
                    for a, b in zip(PUBLISHED[low], PUBLISHED[high])
                ),
                True,
            )
    yield years[-1], PUBLISHED[years[-1]], False


def seed(apps, schema_editor):
    BenefitRate = apps.get_model("organisations", "BenefitRate")
    for year, (without_children, with_children), estimate in _rates():
        BenefitRate.objects.update_or_create(
            year=year,
            defaults={
                "without_children": Decimal(without_children),
                "with_children": Decimal(with_children),
                "is_estimate": estimate,
                "source": "Interpoleret mellem offentliggjorte år" if estimate else SOURCE,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("organisations", "BenefitRate").objects.filter(year__gte=2014, year__lte=2024).delete()


class Migration(migrations.Migration):
    dependencies = [("organisations", "0004_contract_business_case_benefit_rate")]

    operations = [migrations.RunPython(seed, unseed)]
