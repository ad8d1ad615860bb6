"""A Great Expectations checkpoint on the publication candidate of one period, with Data Docs.

GX 1.x validates the period's slice through its pandas datasource (its SQL path does not work on DuckDB as
shipped); the slice is small (one row per unit and indicator). GX is imported lazily: it costs seconds.
It is imported in the calling thread on purpose: importing it in a background thread while the job imports
other modules gave half-initialised shared modules (sqlalchemy) in the dbt step.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import duckdb

from pipelines.periods import Period
from pipelines.quality.results import GateResult
from pipelines.warehouse import relation_exists

# Where the Data Docs of a period go under `reports/<period>/gx` (the layout of a file context's project).
DOCS_SITE = Path("gx", "uncommitted", "data_docs", "local_site")

GROUP_MAXIMA = {"g1_points": "G1", "g2_points": "G2", "g3_points": "G3", "g4_points": "G4", "g4a_points": "G4a",
                "g4b_points": "G4b", "g5_points": "G5"}


def _slices(con: duckdb.DuckDBPyConnection, period: Period, rule_version: str) -> dict[str, Any]:
    index = con.execute(
        """
        select u.*,
               abs(coalesce(g1_points, 0) + coalesce(g2_points, 0) + coalesce(g3_points, 0)
                   + coalesce(g4_points, 0) + coalesce(g5_points, 0) - total_points) as group_sum_gap,
               abs(coalesce(g4a_points, 0) + coalesce(g4b_points, 0) - coalesce(g4_points, 0)) as g4_split_gap,
               case when total_points_display is null then null else rank() over (
                   partition by peer_group, total_points_display is null
                   order by total_points_display desc) end as expected_rank,
               -- a provisional period is not ranked (rank_partial_periods): no rank, no group size
               case when rank_in_peer_group is null then null
                    else count(rank_in_peer_group) over (partition by peer_group) end as expected_peer_group_size
        from marts.unit_service_index u
        where period_label = ? and rule_version = ?
        """,
        [period.label, rule_version],
    ).df()
    points = con.execute(
        "select * from marts.service_indicator_points where period_label = ? and rule_version = ?",
        [period.label, rule_version],
    ).df()
    group_max: dict[str, float] = {}
    scale = None
    if relation_exists(con, "seeds.rule_766_group"):
        rows = con.execute("select lower(group_code), max_points, parent_group_code is null"
                           " from seeds.rule_766_group where rule_version = ?", [rule_version]).fetchall()
        group_max = {code: maximum for code, maximum, _top in rows}
        # The index's scale is the sum of its top-level groups' maxima (100 in every shipped version).
        scale = sum(maximum for _code, maximum, top in rows if top) or None
    return {"index": index, "points": points, "group_max": group_max, "scale": scale}


def run_checkpoint(con: duckdb.DuckDBPyConnection, period: Period, rule_version: str,
                   report_dir: Path) -> tuple[list[GateResult], Path | None]:
    """Validate the period's candidate rows; return one GateResult per expectation and the Data Docs index."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx  # noqa: PLC0415 - lazy: the import takes seconds
    from great_expectations.data_context.types.base import (  # noqa: PLC0415
        DataContextConfig,
        InMemoryStoreBackendDefaults,
    )

    data = _slices(con, period, rule_version)
    project = report_dir / "gx"
    shutil.rmtree(project, ignore_errors=True)
    site = project / DOCS_SITE
    site.mkdir(parents=True, exist_ok=True)
    # An in-memory context: a file context re-reads its YAML configuration on every store access and writes
    # suites, definitions and checkpoints that nobody reads again (the period's project is rebuilt each run).
    # Only the Data Docs go to disk, where the file context used to put them.
    ctx = gx.get_context(mode="ephemeral", project_config=DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites={"local_site": {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": True,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }},
        analytics_enabled=False,
    ))
    source = ctx.data_sources.add_or_update_pandas(name="publication_candidate")
    e = gx.expectations

    index_suite = gx.ExpectationSuite(name=f"unit_service_index_{period.label}")
    index_suite.add_expectation(e.ExpectTableRowCountToBeBetween(min_value=1))
    index_suite.add_expectation(e.ExpectColumnValuesToBeUnique(column="unit_code"))
    index_suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column="peer_group"))
    if data["scale"] is not None:
        index_suite.add_expectation(
            e.ExpectColumnValuesToBeBetween(column="total_points", min_value=0, max_value=float(data["scale"])))
    for column, group in GROUP_MAXIMA.items():
        maximum = data["group_max"].get(group.lower())
        if maximum is not None:
            index_suite.add_expectation(
                e.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=float(maximum)))
    index_suite.add_expectation(e.ExpectColumnValuesToBeBetween(column="group_sum_gap", max_value=1e-6))
    index_suite.add_expectation(e.ExpectColumnValuesToBeBetween(column="g4_split_gap", max_value=1e-6))
    index_suite.add_expectation(e.ExpectColumnPairValuesToBeEqual(
        column_A="rank_in_peer_group", column_B="expected_rank", ignore_row_if="either_value_is_missing"))
    index_suite.add_expectation(e.ExpectColumnValuesToBeBetween(column="rank_in_peer_group", min_value=1))
    index_suite.add_expectation(e.ExpectColumnPairValuesToBeEqual(
        column_A="peer_group_size", column_B="expected_peer_group_size", ignore_row_if="both_values_are_missing"))

    points_suite = gx.ExpectationSuite(name=f"service_indicator_points_{period.label}")
    points_suite.add_expectation(e.ExpectCompoundColumnsToBeUnique(column_list=["unit_code", "indicator_id"]))
    points_suite.add_expectation(e.ExpectColumnValuesToBeBetween(column="points", min_value=0))
    points_suite.add_expectation(e.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="max_points", column_B="points", or_equal=True, ignore_row_if="either_value_is_missing"))
    points_suite.add_expectation(e.ExpectColumnValuesToBeBetween(column="ratio_pct", min_value=0, max_value=100))

    validations = []
    frames = {"unit_service_index": (index_suite, data["index"]),
              "service_indicator_points": (points_suite, data["points"])}
    for name, (suite, _frame) in frames.items():
        asset = source.add_dataframe_asset(name=name)
        batch = asset.add_batch_definition_whole_dataframe(f"{name}_{period.label}")
        suite = ctx.suites.add(suite)
        validations.append((name, ctx.validation_definitions.add(
            gx.ValidationDefinition(name=f"{name}_{period.label}", data=batch, suite=suite))))

    results: list[GateResult] = []
    for name, validation in validations:
        checkpoint = ctx.checkpoints.add(gx.Checkpoint(
            name=f"publication_candidate_{name}_{period.label}",
            validation_definitions=[validation],
            result_format={"result_format": "SUMMARY"},
        ))
        run = checkpoint.run(batch_parameters={"dataframe": frames[name][1]})
        for validation_result in run.run_results.values():
            for r in validation_result.results:
                cfg = r.expectation_config
                kwargs = {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}
                label = "_".join(str(v) for k, v in kwargs.items() if k in ("column", "column_A", "column_B"))
                results.append(GateResult(
                    f"{name}:{cfg.type}{':' + label if label else ''}", "gx", bool(r.success),
                    details={"reason": "ok" if r.success else
                             f"{r.result.get('unexpected_count')} unexpected, e.g. "
                             f"{(r.result.get('partial_unexpected_list') or [])[:5]}",
                             "kwargs": kwargs},
                ))
    # One build of the site for both validations: an UpdateDataDocsAction per checkpoint would build it once per
    # checkpoint, and each build compiles GX's page templates anew (most of the checkpoint's time).
    ctx.build_data_docs()
    sites = ctx.get_docs_sites_urls()
    docs = Path(sites[0]["site_url"].removeprefix("file://")) if sites else None
    return results, docs
