"""Runbook areas as plain functions: each judges what a probe fetched (no pytest here)."""
