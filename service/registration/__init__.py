"""Registrations: people taking a place at an event (or on its waiting list).

``service`` registers, cancels, promotes and holds the capacity rule; ``notifications`` queues
what registrants are mailed and builds it; ``links`` signs and reads their personal links.
What organisers do with them lives here too: ``attendees`` (the list, check-in, resend, cancel
on behalf, the CSV export, announcements), ``roster`` (its queries), ``chart`` (the dashboard's
chart), ``export``, ``messages`` and ``retention`` of personal data."""
