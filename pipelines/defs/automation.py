"""The daily refresh: every asset in one run, so blocking checks gate everything downstream of them."""

import dagster as dg

refresh_warehouse = dg.define_asset_job(
    "refresh_warehouse",
    selection=dg.AssetSelection.all(),
    description="Extract every tenant, rebuild the marts, run the quality gates and export for Power BI.",
)

defs = dg.Definitions(
    jobs=[refresh_warehouse],
    schedules=[
        dg.ScheduleDefinition(
            job=refresh_warehouse,
            cron_schedule="0 5 * * *",
            execution_timezone="UTC",
            description="Daily, well inside the 30 days Microsoft keeps audit logs.",
        )
    ],
)
