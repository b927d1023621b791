"""Loading a project: schedule.yaml, content, templates and accounts, each error on its line."""
