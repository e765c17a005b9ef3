"""The sweep's alert instants move from the wide case rows to a narrow table of their own
(``CaseAlert``): filled from the cases with an alert still to come, then the case columns go."""

import django.db.models.deletion
from django.db import migrations, models

import kaoping.cases.models

# The same statement on SQLite and PostgreSQL: a row for every case whose sweep has something ahead.
FILL = """
INSERT INTO cases_casealert
    (case_id, unit_id, node, due_at, due_soon_at, breaker_at, next_at, deadline_status, overdue, breaker)
SELECT id, unit_id, current_node, current_due_at, alert_due_soon_at, alert_breaker_at, next_alert_at,
    deadline_status, overdue, breaker
FROM cases_case
WHERE next_alert_at IS NOT NULL AND current_node <> ''
"""
# Going back: the instants return to their case rows.
UNFILL = """
UPDATE cases_case SET
    alert_due_soon_at = (SELECT a.due_soon_at FROM cases_casealert a WHERE a.case_id = cases_case.id),
    alert_breaker_at = (SELECT a.breaker_at FROM cases_casealert a WHERE a.case_id = cases_case.id),
    next_alert_at = (SELECT a.next_at FROM cases_casealert a WHERE a.case_id = cases_case.id)
WHERE id IN (SELECT case_id FROM cases_casealert)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0009_recompute_debt"),
        ("org", "0002_staff_devices"),
    ]

    operations = [
        migrations.CreateModel(
            name="CaseAlert",
            fields=[
                (
                    "case",
                    kaoping.cases.models.CaseKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="alert",
                        serialize=False,
                        to="cases.case",
                        verbose_name="办件",
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="org.unit",
                        verbose_name="办理单位",
                    ),
                ),
                ("node", models.CharField(max_length=40, verbose_name="当前环节")),
                ("due_at", models.DateTimeField(blank=True, null=True)),
                ("due_soon_at", models.DateTimeField(blank=True, null=True)),
                ("breaker_at", models.DateTimeField(blank=True, null=True)),
                ("next_at", models.DateTimeField(blank=True, null=True)),
                ("deadline_status", models.CharField(max_length=20)),
                ("overdue", models.BooleanField(default=False)),
                ("breaker", models.BooleanField(default=False)),
            ],
            options={
                "verbose_name": "办件预警时刻",
                "verbose_name_plural": "办件预警时刻",
            },
        ),
        migrations.RunSQL(FILL, UNFILL),
        migrations.AddIndex(
            model_name="casealert",
            index=models.Index(
                condition=models.Q(("next_at__isnull", False)), fields=["next_at"], name="cases_alert_next"
            ),
        ),
        migrations.RemoveIndex(
            model_name="case",
            name="cases_case_next_alert",
        ),
        migrations.RemoveField(
            model_name="case",
            name="alert_breaker_at",
        ),
        migrations.RemoveField(
            model_name="case",
            name="alert_due_soon_at",
        ),
        migrations.RemoveField(
            model_name="case",
            name="next_alert_at",
        ),
    ]
