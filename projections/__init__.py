"""Read models rebuilt from the ledger's events: one module per model, a pure fold plus its tables.

`change_log` is the time-indexed log every time-travel query folds from;
`current_plan`, `slippage_history`, `monthly_snapshots` and `status_summary`
are the auditors' views. `runner` brings them up to date (only new events),
`queries` reads them as of any effective date and recorded moment.
"""
