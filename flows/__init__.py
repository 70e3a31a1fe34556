"""The Prefect flows. Importing any of them sends our log records to the run's log in the
Prefect UI with the run's ids (tasks/run_logs.py)."""

from tasks import run_logs

run_logs.install()
