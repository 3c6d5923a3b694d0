"""The spine every rule rides on: events in, deliveries stored, queued, run through the router, leased."""
