"""Composite-index engine: any index as configuration, with uncertainty, sensitivity and explanations.

Implements docs/index-engine.md after the project's composite-indicator methods specification
(OECD/JRC Handbook and JRC-COIN practice).
"""

from .definition import DefinitionError, IndexDefinition, load_definition, parse_definition
from .engine import IndexRun, StepDataset, run_index
from .persist import run_tables, write_run, write_run_files
from .sql import run_core_sql
from .uncertainty import saltelli_design, sobol_indices
from .warehouse import run_on_warehouse, warehouse_inputs

__all__ = [
    "DefinitionError",
    "IndexDefinition",
    "IndexRun",
    "StepDataset",
    "load_definition",
    "parse_definition",
    "run_core_sql",
    "run_index",
    "run_on_warehouse",
    "run_tables",
    "saltelli_design",
    "sobol_indices",
    "warehouse_inputs",
    "write_run",
    "write_run_files",
]
