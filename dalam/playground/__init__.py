"""The browser playground: ``dalam playground`` serves a page where a learner
builds, trains and dissects a small network that runs on dalam itself.

Shape of the package:
  data.py      the 2-D point sets and the digits subset, seeded
  features.py  input features (x1, x2, x1^2, ... sin) computed from the points
  bridge.py    the model, its training loop, frames, "look inside one step", export
  protocol.py  strict validation of every message a page sends
  sessions.py  one session per browser tab; training off the event loop; idle ones freed
  server.py    the aiohttp application (page, static files, WebSocket, downloads)
  static/      the page: plain HTML, CSS and JS modules (no build step, works offline)

Nothing here is imported by ``import dalam``; the server needs the ``playground``
extra (aiohttp), the rest needs numpy only."""
