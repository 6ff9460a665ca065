"""Reminders before each meeting: to attendees, and a brief to speakers and the chair."""
