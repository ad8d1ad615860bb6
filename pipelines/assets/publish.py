"""Publication of a quarter that passed its gate (and of the longer period the run scored, such as the year
at the year-end): a ready candidate each, published on approval."""

import dagster as dg

from pipelines.assets.indices import INDICES_KEY
from pipelines.checks import INDEX_KEY
from pipelines.partitions import quarterly_partitions, run_window
from pipelines.publish import approve, prepare_candidate
from pipelines.quality.results import for_run, summarise
from pipelines.resources import WarehouseResource


class PublishConfig(dg.Config):
    """Set `approve` and `approved_by` in the launchpad to publish the candidate in the same run."""

    approve: bool = False
    approved_by: str = ""
    accept_warnings_reason: str = ""


@dg.asset(
    key=["published", "analyst_warehouse"],
    deps=[INDEX_KEY, dg.AssetKey(["marts", "service_indicator_points"]), INDICES_KEY],
    partitions_def=quarterly_partitions,
    group_name="publish",
    kinds={"duckdb"},
    description="The analysts' warehouse file (and the restricted one) with every published version.",
)
def published_warehouse(context: dg.AssetExecutionContext, config: PublishConfig,
                        warehouse: WarehouseResource) -> dg.MaterializeResult:
    window = run_window(context)
    period = window.quarter
    home, settings = warehouse.home, warehouse.settings
    con = warehouse.connect()
    outcomes = []
    try:
        results = for_run(con, period.label, context.run_id)
        summary = summarise(results)
        if not results:
            raise dg.Failure(description=f"{period.label}: no gate results in this run; nothing is published.")
        if summary["blocking_failures"]:
            raise dg.Failure(description=f"{period.label}: blocking checks failed; nothing is published.",
                             metadata={"failures": dg.MetadataValue.json(summary["blocking_failures"][:50])})
        approver = config.approved_by.strip() or ("auto-publication" if settings.auto_publish else "")
        # The quarter first, then the longer period of the run (the year at the year-end), each as of the window.
        for label in window.published_labels:
            as_of, window_end = window.publication_window(label)
            candidate = prepare_candidate(con, label, summary, settings.service_index_rule_version,
                                          actor=f"run:{context.run_id[:8]}", as_of=as_of, window_end=window_end)
            outcome = {"status": candidate.status, "version": candidate.version}
            if candidate.status == "ready" and (config.approve or settings.auto_publish):
                outcome = approve(con, home, label, approver,
                                  accept_warnings_reason=config.accept_warnings_reason or None)
            outcomes.append({"period": label, "version": int(outcome["version"]), "status": str(outcome["status"]),
                             "content_hash": candidate.content_hash,
                             # False when nothing changed: same rows as the latest version, in the same state
                             "is_new_version": candidate.is_new or outcome["status"] != candidate.status,
                             "as_of": as_of.isoformat() if as_of else None})
    finally:
        con.close()
    context.log.info(f"{period.label}: {outcomes}")
    first = outcomes[0]
    return dg.MaterializeResult(metadata={
        "period": period.label,
        "version": first["version"],
        "status": first["status"],
        "content_hash": first["content_hash"],
        # False when the candidate's content equals the latest version: a re-run that changed nothing.
        "is_new_version": first["is_new_version"],
        "as_of": first["as_of"] or "",
        "publications": dg.MetadataValue.json(outcomes),
        "published_db": dg.MetadataValue.path(str(home.published_db)),
        "checks_passed": summary["passed"],
        "warnings": dg.MetadataValue.json(summary["warnings"][:50]),
    })
