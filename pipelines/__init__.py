"""chamdiem: the province's scoring, classification and ranking warehouse."""

__version__ = "0.1.0"
