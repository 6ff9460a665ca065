"""Who may see and do what in the organisers' area: roles per event and per statement, and
the invitations that hand them out."""
