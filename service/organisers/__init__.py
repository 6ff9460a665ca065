"""The organisers' area: accounts, events, attendees, check-in, exports and messages."""
