"""fapiao: electronic VAT invoice platform."""

__version__ = "0.1.0"
