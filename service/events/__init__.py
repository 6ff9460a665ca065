"""Events: public listings, event pages, calendar files and the events API."""
