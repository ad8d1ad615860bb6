"""Deterministic demo data for the province of Phú Thọ (as it is since 1 July 2025).

`generate_demo` writes every feed as landing files; `phu_tho_units` is the unit reference list.
"""

from pipelines.demo.generate import BadRow, DemoSummary, generate_demo
from pipelines.demo.units import phu_tho_units

__all__ = ["BadRow", "DemoSummary", "generate_demo", "phu_tho_units"]
