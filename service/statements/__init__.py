"""Solidarity statements, the people who sign them and the public signatory list."""
