"""The plan's domain: events, aggregates, value objects. Pure: no I/O, SQLAlchemy or typer."""
