"""The inbound contracts: valid ODCS, and read into the rules ingestion applies."""

from __future__ import annotations

import pytest
from datacontract.data_contract import DataContract

from pipelines.contracts import FEEDS, all_contracts, load_contract
from pipelines.home import INBOUND_CONTRACTS_DIR


@pytest.mark.parametrize("feed", FEEDS)
def test_contract_passes_datacontract_lint(feed: str) -> None:
    run = DataContract(data_contract_file=str(INBOUND_CONTRACTS_DIR / f"{feed}.odcs.yaml")).lint()
    assert run.result == "passed", [(c.name, c.reason) for c in run.checks]


def test_every_feed_has_a_contract_with_its_period_kind() -> None:
    kinds = {feed: c.period_kind for feed, c in all_contracts().items()}
    assert kinds == {
        "units": "reference",
        "procedures": "reference",
        "products": "reference",
        "staff": "reference",
        "dossiers": "quarter",
        "feedback": "quarter",
        "ratings": "quarter",
        "work_items": "month_or_quarter",
        "general_criteria": "month_or_quarter",
        "leader_criteria": "month_or_quarter",
        "discipline": "year",
        "agency_tasks": "year",
        "agency_general_criteria": "year",
    }


def test_keys_follow_the_feed_spec() -> None:
    keys = {feed: c.primary_key for feed, c in all_contracts().items()}
    assert keys["general_criteria"] == ("staff_id", "period_start", "period_type", "criterion")
    assert keys["leader_criteria"] == ("staff_id", "period_start", "period_type", "criterion")
    assert keys["discipline"] == ("staff_id", "decided_on", "kind")
    assert keys["agency_general_criteria"] == ("unit_code", "year", "criterion")
    assert keys["dossiers"] == ("dossier_id",)
    assert keys["procedures"] == ("procedure_code", "unit_code")


def test_dossier_contract_carries_aliases_labels_and_rules() -> None:
    c = load_contract("dossiers")
    lookup = c.header_lookup()
    assert lookup["mã hồ sơ"] == "dossier_id"
    assert lookup["bản sao điện tử chứng thực"] == "certified_e_copy"
    assert c.column("status").enum_lookup()["đã trả kết quả"] == "returned"
    assert c.column("channel").enum_lookup()["bưu chính"] == "postal"
    assert c.column("unit_code").fixed_width == 5
    assert c.column("due_at").deadline and c.column("due_at").not_before.reason_code == "due_before_received"
    assert c.column("supplement_count").minimum == 0
    assert c.column("procedure_code").reference.feed == "procedures"
    assert load_contract("ratings").column("dossier_id").reference.soft
    assert load_contract("products").column("conversion_factor").exclusive_minimum


def test_raw_ddl_has_typed_columns_and_lineage() -> None:
    ddl = load_contract("feedback").raw_ddl()
    for fragment in (
        "raw.feedback",
        "received_at TIMESTAMP",
        "likes BIGINT",
        "is_repeat BOOLEAN",
        "_load_id VARCHAR",
        "_row_number BIGINT",
        "_loaded_at TIMESTAMP",
    ):
        assert fragment in ddl
