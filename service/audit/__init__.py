"""A record of who did what in the organisers' area: which account changed or revealed
personal data, when, on which event or statement. Never the personal data itself."""
