"""Data stewardship: anomaly findings on the delivered rows and the quality report of a period."""
