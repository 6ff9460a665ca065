"""Outgoing mail: the outbox table, its dispatcher, transports and unsubscribe links.

Nothing else speaks SMTP, and mail imports no other area. Other areas call
``mail.service`` (queue in their own unit of work, find and forget messages by the event,
registration or signature they are about); ``dispatch`` sends what is due (a scheduler job or
``flask mail send-due``), ``unsubscribe`` keeps who asked for no more, ``render`` turns params
into content through the builders areas register.
"""
