"""crossdept web edge: the Flask app, the webhook receiver and the command line."""
