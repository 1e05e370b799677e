#!/bin/sh
# Splunk scripted input for the IT Portal SIEM feed (TA-itportal/bin/itportal-pull.sh).
# Splunk runs it every `interval` seconds (default/inputs.conf); each run drains the feed with
# `itportal siem pull --once` into NDJSON files that the [monitor://] stanza indexes. The cursor and
# the output offset live in a state file, so runs that are killed or overlap never lose or double
# an event (a second run while one is active exits with a message, and the next run continues).
#
# Settings come from TA-itportal/local/itportal.conf (the README says how to create it):
#   [itportal]
#   url = https://portal.your-company.example    (required: there is no default portal)
#   key_file = /etc/itportal-siem/siem.key   (default: local/itportal.key; a path outside etc/apps is
#              better: the app directory is copied when the app is deployed to other servers)
#   out_dir = /var/lib/itportal-siem                                 (default)
# The environment variables ITPORTAL_URL, ITPORTAL_KEY_FILE, ITPORTAL_OUT_DIR and ITPORTAL_CMD
# override the file. The key is read from a file only this script's user can read, never a flag.
set -eu
app_dir="$(cd "$(dirname "$0")/.." && pwd)"
conf="$app_dir/local/itportal.conf"

# `key = value` of the [itportal] stanza of local/itportal.conf (empty when absent).
setting() {
  [ -f "$conf" ] || return 0
  sed -n '/^\[itportal\]/,/^\[/p' "$conf" |
    sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" | tail -n 1 | sed 's/[[:space:]]*$//'
}

ITPORTAL_URL="${ITPORTAL_URL:-$(setting url)}"
ITPORTAL_KEY_FILE="${ITPORTAL_KEY_FILE:-$(setting key_file)}"
ITPORTAL_KEY_FILE="${ITPORTAL_KEY_FILE:-$app_dir/local/itportal.key}"
ITPORTAL_OUT_DIR="${ITPORTAL_OUT_DIR:-$(setting out_dir)}"
ITPORTAL_OUT_DIR="${ITPORTAL_OUT_DIR:-/var/lib/itportal-siem}"
ITPORTAL_CMD="${ITPORTAL_CMD:-itportal}"

if [ -z "$ITPORTAL_URL" ]; then
  echo "itportal-pull.sh: the portal URL is not configured. Create $conf with" >&2
  echo "  [itportal]" >&2
  echo "  url = https://<your portal>" >&2
  echo "(or set ITPORTAL_URL); see the TA-itportal README." >&2
  exit 2
fi

# ITPORTAL_CMD is split on spaces on purpose ("node /opt/itportal/bin/itportal.js" works); it comes
# from the operator's environment, never from the portal.
exec $ITPORTAL_CMD siem pull --url "$ITPORTAL_URL" --key-file "$ITPORTAL_KEY_FILE" --out "$ITPORTAL_OUT_DIR/events.ndjson" --once --json-log
