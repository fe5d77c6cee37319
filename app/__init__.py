"""How the studio is served: settings, Blocks assembly, JSON API, limits, auth."""
