#!/usr/bin/env bash
# Installs ticketplane on a Kubernetes cluster with Istio, step by step, each
# step idempotent (kubectl apply; istioctl install only where Istio is
# missing). Run it again to upgrade or to repair.
#
#   scripts/install.sh [--dry-run] [--gateway istioctl|helm] [--demo] [--no-wait] [--skip-istio-install]
#
#   --dry-run             check the prerequisites and print every step, changing nothing
#   --gateway helm        the ingress gateway came from the Helm istio/gateway chart
#                         (release istio-ingress: label istio: ingress); default istioctl
#   --demo                also install the demo app (examples/kubernetes/)
#   --no-wait             do not wait for the rollouts
#   --skip-istio-install  never run istioctl install (fail if Istio is missing)
#
# Environment: KUBECTL (default kubectl), ISTIOCTL (default istioctl).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KUBECTL="${KUBECTL:-kubectl}"
ISTIOCTL="${ISTIOCTL:-istioctl}"
dry_run=0 gateway=istioctl demo=0 wait=1 install_istio=1

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=1 ;;
    --gateway) shift; gateway="${1:-}" ;;
    --gateway=*) gateway="${1#--gateway=}" ;;
    --demo) demo=1 ;;
    --no-wait) wait=0 ;;
    --skip-istio-install) install_istio=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$gateway" in
  istioctl) istio_dir=istio; gateway_label="istio=ingressgateway" ;;
  helm) istio_dir=istio/helm-gateway; gateway_label="istio=ingress" ;;
  *) echo "install.sh: --gateway must be istioctl or helm, not '$gateway'" >&2; exit 2 ;;
esac

say() { printf '==> %s\n' "$*"; }
# Runs a command that changes the cluster, or prints it under --dry-run.
run() {
  if [ "$dry_run" = 1 ]; then printf '    would run: %s\n' "$*"; else printf '    $ %s\n' "$*"; "$@"; fi
}

missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$1 ($2)"); }

say "Checking prerequisites"
need "$KUBECTL" "kubectl 1.27 or later: https://kubernetes.io/docs/tasks/tools/"
if [ ${#missing[@]} -gt 0 ]; then
  printf 'install.sh: missing: %s\n' "${missing[@]}" >&2
  exit 1
fi
if ! "$KUBECTL" version >/dev/null 2>&1; then
  echo "install.sh: $KUBECTL cannot reach a cluster (check your kubeconfig and context: $KUBECTL config current-context)" >&2
  exit 1
fi
echo "    cluster: $("$KUBECTL" config current-context 2>/dev/null || echo '(in-cluster or default)')"

istio_installed=0
# Read whole, then matched: `grep -q` in a pipe would end kubectl early (SIGPIPE, and pipefail).
# Discovery can fail in part (an aggregated API that is down, a slow API server) and then exits non-zero:
# its list may still name Istio's kinds; if it does not, ask again before concluding Istio is missing.
discovery_error="$(mktemp)"
discovery_failed=1
for attempt in 1 2 3; do
  if istio_resources="$("$KUBECTL" api-resources --api-group=networking.istio.io -o name 2>"$discovery_error")"; then
    discovery_failed=0
    break
  fi
  if printf '%s\n' "$istio_resources" | grep -q '^envoyfilters\.'; then break; fi
  [ "$attempt" = 3 ] || sleep 2
done
if [ "$discovery_failed" = 1 ] && ! printf '%s\n' "$istio_resources" | grep -q '^envoyfilters\.'; then
  echo "    (listing the cluster's API resources failed: $(tr '\n' ' ' <"$discovery_error"))"
fi
rm -f "$discovery_error"
if printf '%s\n' "$istio_resources" | grep -q '^envoyfilters\.'; then
  istio_installed=1
  echo "    Istio: its CRDs are installed"
elif [ "$install_istio" = 1 ] && [ "$gateway" = istioctl ]; then
  need "$ISTIOCTL" "Istio is not installed and istioctl installs it: https://istio.io/latest/docs/setup/getting-started/#download"
  echo "    Istio: not installed; istioctl install will add it"
else
  missing+=("Istio (its CRDs, networking.istio.io: install Istio first, e.g. istioctl install)")
fi
if [ ${#missing[@]} -gt 0 ]; then
  printf 'install.sh: missing: %s\n' "${missing[@]}" >&2
  exit 1
fi

if [ "$istio_installed" = 0 ]; then
  say "Installing Istio (istioctl, default profile: istiod and the ingress gateway)"
  run "$ISTIOCTL" install -y --set profile=default
fi

if [ "$istio_installed" = 1 ] && [ -z "$("$KUBECTL" get pods -A -l "$gateway_label" -o name 2>/dev/null)" ]; then
  echo "    note: no pod labelled $gateway_label yet; the EnvoyFilter applies once the gateway runs (wrong style? --gateway helm|istioctl)"
fi

say "Installing ticketplane: namespace, CRD, RBAC, config, Deployment, Services (deploy/)"
run "$KUBECTL" apply -k "$here/deploy"
say "Installing the ticket gateway (envoy/)"
run "$KUBECTL" apply -k "$here/envoy"
say "Installing the Istio objects: ext_authz EnvoyFilter, Gateway, mTLS, DestinationRules, AuthorizationPolicies ($istio_dir/)"
run "$KUBECTL" apply -k "$here/$istio_dir"
if [ "$demo" = 1 ]; then
  say "Installing the demo app (examples/kubernetes/)"
  run "$KUBECTL" apply -k "$here/examples/kubernetes"
fi

if [ "$wait" = 1 ]; then
  say "Waiting for the rollouts"
  run "$KUBECTL" -n ticketplane-system rollout status deployment/ticketplane --timeout=180s
  run "$KUBECTL" -n ticketplane-system rollout status deployment/ticket-gateway --timeout=180s
  if [ "$demo" = 1 ]; then run "$KUBECTL" -n ticketplane-demo rollout status deployment/demo --timeout=180s; fi
fi

if [ "$dry_run" = 1 ]; then
  say "Dry run: nothing was changed"
else
  say "Done. Next: scripts/demo.sh (curl through the ingress gateway), then: istioctl dashboard kiali"
fi
