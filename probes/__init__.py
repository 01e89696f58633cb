"""Synthetic probes: http, workflow and browser checks from every region, once or as a daemon."""
