"""Rasa's conversation stores, made to survive a database or Redis restart (Rasa-side: loaded by the Rasa
server, Python 3.10, from endpoints.yml as `type: stores.trackers.SQLTrackerStore` and
`type: stores.locks.RedisLockStore`). Nothing here imports visafaq."""
