"""The web edge: the Flask app factory, the webhook receiver, /healthz and /metrics, the goal board."""
