"""Running the site: the scheduler's heartbeat, proxies in front, /healthz and ``flask doctor``."""
