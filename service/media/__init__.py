"""Images (events, statements, the logo; any area may store one) and the site's look: the
home page's introduction and the organisation's logo."""
