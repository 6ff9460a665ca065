"""Registrations: people taking a place at an event (or on its waiting list); and what
organisers do with them (``attendees``: the list, check-in, resend, cancel on behalf, the CSV
export, announcements), the roster queries and chart, and retention of personal data."""
