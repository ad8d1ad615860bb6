"""What analysts and leaders get from the published warehouse: Excel and flat-file exports, printable
unit scorecards and the documented queries. Everything here reads `warehouse/published.duckdb` read-only."""
