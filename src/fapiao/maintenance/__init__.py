"""Maintenance windows: while one is on, state-changing API requests are refused with 503."""
