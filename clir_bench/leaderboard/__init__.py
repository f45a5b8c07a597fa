"""The leaderboard: the submissions store, the board data (scored, ranked, compared), and its
static HTML rendering (charts, templates, static files) and local server."""
