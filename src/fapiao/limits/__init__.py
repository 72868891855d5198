"""Abuse limits: request counters shared by every process through the database."""
