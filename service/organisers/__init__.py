"""The organisers' area: accounts, login, password, the dashboard and retrying failed mail;
nothing another area owns (each area's management pages live in that area)."""
