"""Fake messenger APIs (Telegram's and Zalo's Bot APIs), for tests, `thidua demo` and benchmarks.

They live outside `bot/` on purpose: the runtime never needs them, and only the demo
command imports them.
"""
