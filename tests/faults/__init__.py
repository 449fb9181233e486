"""The fault suite (#19): faults, kills, concurrent runs and MLflow outages, offline."""
