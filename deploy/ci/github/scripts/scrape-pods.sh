#!/usr/bin/env bash
# Prints /metrics of every inferd pod, each scrape after a `# pod NAME` line (canary-verdict.mjs
# sums the pods' counters). Runs inside each pod through `kubectl exec` because a port-forward to
# the Service reaches one pod only; the image has node but no curl, and /metrics needs no token.
#   scrape-pods.sh NAMESPACE [SELECTOR]
set -euo pipefail
namespace="${1:?namespace}"
selector="${2:-app.kubernetes.io/name=inferd}"
for pod in $(kubectl -n "$namespace" get pods -l "$selector" \
  --field-selector=status.phase=Running -o jsonpath='{.items[*].metadata.name}'); do
  echo "# pod $pod"
  kubectl -n "$namespace" exec "$pod" -c inferd -- node -e \
    "fetch('http://127.0.0.1:8080/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))"
done
