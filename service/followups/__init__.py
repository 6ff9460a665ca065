"""Follow-ups after a meeting: one message to those who came and one to those who did not."""
