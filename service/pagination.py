"""What every numbered list (past events, attendees, signatures) shares."""

# The highest page number a list accepts: an offset past 64 bits is an error in PostgreSQL.
MAX_PAGE = 100_000
