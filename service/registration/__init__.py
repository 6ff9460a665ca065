"""Registrations: people taking a place at an event (or on its waiting list). ``service``
registers, cancels, promotes and holds the capacity rule; ``notifications`` queues what
registrants are mailed and builds it; ``links`` signs and reads their personal links."""
