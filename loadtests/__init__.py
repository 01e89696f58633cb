"""Locust users and load shapes whose traffic the validators can count.

Only `locustfile.py`, `users.py`, `shapes.py` and `hooks.py` import Locust (and with it
gevent's monkey-patching); they run in Locust's own processes, started by `runner.py`.
"""
