"""APScheduler runs the reminder sweep and the mail dispatcher.

Correctness lives in the database (claims, unique dedupe keys), so any number of schedulers may
run against one database; each keeps its own in-memory job store (APScheduler 3 cannot share one).
"""
