"""Outgoing mail: the outbox table, its dispatcher, transports and unsubscribe links.

Nothing else speaks SMTP. Other areas call ``mail.service.queue_message`` inside their own
transaction; the dispatcher (a scheduler job or ``flask mail send-due``) sends what is due.
"""
