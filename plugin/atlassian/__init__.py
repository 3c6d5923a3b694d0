"""Jira and Confluence: the ports rules speak to, the gateways behind them, and crossdept's seals and marks there."""
