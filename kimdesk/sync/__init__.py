"""Client side of sync: change log transfer, merge, team keys, HTTP client, offline lease."""
