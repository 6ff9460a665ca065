"""Solidarity statements, the people who sign them and the public signatory list; and the
organisers' pages for them (``manage``: the editor, moderation, the CSV export)."""
