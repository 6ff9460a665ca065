"""Registrations: people taking a place at an event (or on its waiting list)."""
