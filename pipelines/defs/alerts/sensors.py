"""Alert delivery: each new or resolved alert to the channels its tenant's configuration routes it to."""

from pathlib import Path

import dagster as dg

from pipelines.lib.alerting.delivery import deliver
from pipelines.lib.alerting.store import state_path
from pipelines.lib.config import CONFIG_ENV, WAREHOUSE_ENV, load_config
from pipelines.lib.warehouse.publish import analytics_path


class AlertDelivery(dg.ConfigurableResource):
    """Where the alerts are read (the analytics database beside the warehouse) and where what was delivered is
    recorded (the alert state store beside it, pipelines/lib/alerting/store.py). Unlike the warehouse resource it
    takes no run lock: the sensor never opens the warehouse."""

    config_file: str
    warehouse_path: str


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def deliver_alerts(context: dg.SensorEvaluationContext, alert_delivery: AlertDelivery) -> dg.SkipReason:
    """Sends what opened or resolved since the last pass, retries what failed when its backoff is over, and starts
    each new alert history with one summary (docs/alerts.md). It requests no run: delivery is not a warehouse
    write."""
    config = load_config(Path(alert_delivery.config_file))
    warehouse = Path(alert_delivery.warehouse_path)
    report = deliver(config, analytics_path(warehouse), state_path(warehouse))
    for channel, error in report.failed.items():
        context.log.warning(f"alert channel {channel} failed, retried after a backoff: {error}")
    return dg.SkipReason(
        f"planned {report.queued} messages; sent {sum(report.sent.values())} "
        f"({', '.join(f'{name} {count}' for name, count in sorted(report.sent.items())) or 'none'})"
        + (f"; channels failing: {', '.join(sorted(report.failed))}" if report.failed else "")
    )


defs = dg.Definitions(
    sensors=[deliver_alerts],
    resources={
        "alert_delivery": AlertDelivery(config_file=dg.EnvVar(CONFIG_ENV), warehouse_path=dg.EnvVar(WAREHOUSE_ENV))
    },
)
