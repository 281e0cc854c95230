"""Use cases over the database.

Each function takes a SQLAlchemy ``Connection`` that is already inside a transaction (the caller
owns the unit of work and the commit) plus plain values, applies the programme's rules from
``bot.domain`` and returns plain dataclasses. Handlers, the CLI, the scheduler and the web board
all go through here, so a rule lives in one place whichever channel triggers it.
"""
