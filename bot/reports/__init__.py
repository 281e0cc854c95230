"""Printable reports built from bot/services/stats.py: the yearly Excel workbook."""
