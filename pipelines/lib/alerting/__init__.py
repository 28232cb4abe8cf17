"""Alerts after the warehouse: their delivery to the channels each tenant routes them to, and their state."""
