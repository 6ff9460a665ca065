"""Events: public listings, event pages, calendar files and the events API; and the
organisers' pages for them (``manage``: the event form, status, preview, scheduled mail, the
event's own questions)."""
