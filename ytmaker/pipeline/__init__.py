"""The five stages as plain functions of (context, project id), each `run` in its own module:
`script`, `assets`, `render`, `thumbnail`, `upload`. The Prefect tasks in `tasks/` call them;
`ytmaker.bookkeeping` keeps the database, state file and progress in step around each."""
