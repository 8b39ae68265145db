#!/usr/bin/env bash
# Walks through ticketplane on Kubernetes with curl, through the Istio ingress
# gateway, and says what each step proves. Needs the demo app
# (scripts/install.sh --demo).
#
#   scripts/demo.sh [--ingress HOST:PORT] [--host NAME] [--prefix /PATH/] [--users N]
#
#   --ingress  where the ingress gateway answers (default: $INGRESS, else the
#              istio-ingressgateway Service's load-balancer address). Without a
#              load balancer:
#                kubectl -n istio-system port-forward svc/istio-ingressgateway 8080:80 &
#                scripts/demo.sh --ingress 127.0.0.1:8080
#   --host     the app's host (default demo.ticketplane.local)
#   --prefix   the app's path prefix (default /demo/)
#   --users    how many more users to send in to reach the waiting room (default 4:
#              the demo app has maxPods 3 x ticketsPerPod 1)
#
# Environment: KUBECTL (default kubectl), INGRESS.
set -euo pipefail

KUBECTL="${KUBECTL:-kubectl}"
ingress="${INGRESS:-}" host=demo.ticketplane.local prefix=/demo/ users=4
usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --ingress) shift; ingress="${1:-}" ;;
    --host) shift; host="${1:-}" ;;
    --prefix) shift; prefix="${1:-}" ;;
    --users) shift; users="${1:-}" ;;
    -h|--help) usage; exit 0 ;;
    *) echo "demo.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
command -v curl >/dev/null 2>&1 || { echo "demo.sh: missing: curl" >&2; exit 1; }
case "$users" in ''|*[!0-9]*) echo "demo.sh: --users must be a number, not '$users'" >&2; exit 2 ;; esac

if [ -z "$ingress" ]; then
  lb="$("$KUBECTL" -n istio-system get svc istio-ingressgateway -o jsonpath='{.status.loadBalancer.ingress[0].ip}{.status.loadBalancer.ingress[0].hostname}' 2>/dev/null || true)"
  if [ -z "$lb" ]; then
    echo "demo.sh: no ingress address: the istio-ingressgateway Service has no load-balancer address. Port-forward it and pass --ingress:" >&2
    echo "  kubectl -n istio-system port-forward svc/istio-ingressgateway 8080:80 &" >&2
    echo "  scripts/demo.sh --ingress 127.0.0.1:8080" >&2
    exit 1
  fi
  ingress="$lb:80"
fi
url="http://$ingress${prefix}whoami"
jars="$(mktemp -d)"
trap 'rm -rf "$jars"' EXIT

step() { printf '\n== %s\n' "$*"; }
proves() { printf '   proves: %s\n' "$*"; }
# One request as user $1 (their cookie jar): prints "STATUS POD"; the body goes to $jars/$1.body, headers to $jars/$1.headers.
request() {
  local status
  status="$(curl -sS -o "$jars/$1.body" -D "$jars/$1.headers" -w '%{http_code}' -b "$jars/$1.jar" -c "$jars/$1.jar" -H "Host: $host" -H 'Accept: application/json' "$url")" || { echo "demo.sh: cannot reach $url (is the ingress address right?)" >&2; exit 1; }
  printf '%s %s\n' "$status" "$(sed -n 's/.*"pod" *: *"\([^"]*\)".*/\1/p' "$jars/$1.body")"
}

step "1. A first request: no ticket yet"
read -r status pod < <(request alice)
echo "   GET $url (Host: $host) -> $status, pod $pod"
[ "$status" = 200 ] || { echo "demo.sh: expected 200, got $status:"; cat "$jars/alice.body"; exit 1; }
grep -i '^set-cookie: ' "$jars/alice.headers" | tr -d '\r' | sed 's/^/   /' | cut -c1-110
proves "Check issued a ticket (the Set-Cookie above) for a free slot and the request reached the pod it names ($pod), through the ingress gateway's ext_authz filter and the ticket gateway"

step "2. The same user again, three times"
for i in 1 2 3; do
  read -r status again < <(request alice)
  echo "   request $i -> $status, pod $again"
  [ "$again" = "$pod" ] || { echo "demo.sh: alice moved from $pod to $again: stickiness lost"; exit 1; }
done
proves "the ticket cookie keeps the user on the same pod; the app's per-user state on that pod survives"

step "3. $users more users arrive"
full=""
for n in $(seq 1 "$users"); do
  read -r status other < <(request "user$n")
  if [ "$status" = 503 ]; then full="user$n"; echo "   user$n -> 503 (waiting room)"; break; fi
  echo "   user$n -> $status, pod $other"
done
if [ -n "$full" ]; then
  grep -i '^retry-after: ' "$jars/$full.headers" | tr -d '\r' | sed 's/^/   /'
  head -c 300 "$jars/$full.body" | sed 's/^/   /'; echo
  proves "each user holds an exclusive slot; once every slot is taken (and no pod may be added) the next user waits in a FIFO queue with a place and a Retry-After, instead of overloading a pod"
else
  proves "every user got a slot of their own (ticketplane scaled the app up as free slots ran out: kubectl -n ticketplane-demo get pods); send more with --users to see the waiting room"
fi

step "4. Look at it"
echo "   kubectl -n ticketplane-demo get ticketedapps    # pods, used and free slots, queue"
echo "   istioctl dashboard kiali                         # ingress gateway -> ticket gateway -> demo pods, all mTLS"
