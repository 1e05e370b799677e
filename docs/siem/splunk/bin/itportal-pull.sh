#!/bin/sh
# Splunk scripted input for the IT Portal SIEM feed (TA-itportal/bin/itportal-pull.sh).
# Splunk runs it every `interval` seconds (inputs.conf); each run drains the feed with
# `itportal siem pull --once` into NDJSON files that the [monitor://] stanza indexes. The cursor and
# the output offset live in a state file, so runs that are killed or overlap never lose or double
# an event (a second run while one is active exits with a message, and the next run continues).
# The key is read from a file only this script's user can read, never from a flag.
set -eu
ITPORTAL_URL="${ITPORTAL_URL:-https://portal.example.com}"
ITPORTAL_KEY_FILE="${ITPORTAL_KEY_FILE:-$SPLUNK_HOME/etc/apps/TA-itportal/local/itportal.key}"
ITPORTAL_OUT_DIR="${ITPORTAL_OUT_DIR:-/var/lib/itportal-siem}"
ITPORTAL_CMD="${ITPORTAL_CMD:-itportal}"

exec $ITPORTAL_CMD siem pull --url "$ITPORTAL_URL" --key-file "$ITPORTAL_KEY_FILE" --out "$ITPORTAL_OUT_DIR/events.ndjson" --once --json-log
