#!/bin/sh
# ticketd-notify.sh: post an Icinga 2 or Nagios notification to ticketd's
# alert intake as the JSON object the icinga2 and nagios integration types
# read. Fields come from the environment (Icinga 2's NotificationCommand
# env, see ticketd.conf) and from KEY=value arguments (Nagios, see
# deploy/nagios/ticketd.cfg), arguments winning:
#
#   TICKETD_URL            https://ticketd.example.net/hooks/icinga (required)
#   TICKETD_TOKEN          the integration's token (or put it in the URL)
#   SOURCE                 icinga2 or nagios
#   NOTIFICATION_TYPE      PROBLEM, RECOVERY, ACKNOWLEDGEMENT, ...
#   OBJECT                 host or service
#   HOST_NAME HOST_DISPLAY_NAME HOST_ADDRESS
#   SERVICE_NAME SERVICE_DISPLAY_NAME
#   STATE OUTPUT LONG_OUTPUT
#   TIMESTAMP LAST_STATE_CHANGE   unix seconds
#   AUTHOR COMMENT URL NOTES_URL
#
# Needs a POSIX sh, awk and curl. curl retries what ticketd answers 503
# (the database was unavailable), so nothing is lost to a short outage.
set -u

for arg in "$@"; do
	case $arg in
	*=*) key=$(printf '%s' "${arg%%=*}" | tr 'a-z' 'A-Z')
	     case $key in *[!A-Z0-9_]*) echo "ticketd-notify: bad argument $arg" >&2; exit 2 ;; esac
	     eval "$key=\${arg#*=}" ;;
	*) echo "ticketd-notify: arguments are KEY=value, not $arg" >&2; exit 2 ;;
	esac
done

: "${TICKETD_URL:?set TICKETD_URL to the URL ticketd admin integration add printed}"

# json_str VALUE: VALUE as a JSON string.
json_str() {
	printf '%s' "$1" | tr -d '\000-\010\013\014\016-\037' | awk '
		BEGIN { ORS = ""; printf "\"" }
		{
			gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); gsub(/\r/, "\\r")
			if (NR > 1) printf "\\n"
			printf "%s", $0
		}
		END { printf "\"" }'
}

field() { printf '"%s":%s' "$1" "$(json_str "$2")"; }

body="{$(field source "${SOURCE:-icinga2}")"
body="$body,$(field notification_type "${NOTIFICATION_TYPE:-}")"
body="$body,$(field object "${OBJECT:-}")"
body="$body,$(field host "${HOST_NAME:-}")"
body="$body,$(field host_display_name "${HOST_DISPLAY_NAME:-}")"
body="$body,$(field address "${HOST_ADDRESS:-}")"
body="$body,$(field service "${SERVICE_NAME:-}")"
body="$body,$(field service_display_name "${SERVICE_DISPLAY_NAME:-}")"
body="$body,$(field state "${STATE:-}")"
body="$body,$(field output "${OUTPUT:-}")"
body="$body,$(field long_output "${LONG_OUTPUT:-}")"
body="$body,$(field timestamp "${TIMESTAMP:-}")"
body="$body,$(field last_state_change "${LAST_STATE_CHANGE:-}")"
body="$body,$(field author "${AUTHOR:-}")"
body="$body,$(field comment "${COMMENT:-}")"
body="$body,$(field url "${URL:-}")"
body="$body,$(field notes_url "${NOTES_URL:-}")}"

set -- -sS -f -X POST -H 'Content-Type: application/json' --max-time 10 --retry 5 --retry-max-time 120 \
	--data-binary @- "$TICKETD_URL"
if [ -n "${TICKETD_TOKEN:-}" ]; then
	printf '%s' "$body" | curl -H "Authorization: Bearer $TICKETD_TOKEN" "$@" >/dev/null
else
	printf '%s' "$body" | curl "$@" >/dev/null
fi
