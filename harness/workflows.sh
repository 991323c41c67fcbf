#!/usr/bin/env bash
# harness/workflows.sh generate | check
#
# Each workflow has one source: workflows/NAME.gxwf.yml (gxformat2's Format2, readable and diffable).
# The native workflows/NAME.ga that Galaxy, planemo and the Tool Shed read is generated from it with
# gxformat2's converter (gxwf-to-native, in .venv-galaxy); a fixed `uuid:` in the source keeps the
# output stable.
#   generate  rewrites every NAME.ga from its NAME.gxwf.yml
#   check     fails when a committed NAME.ga differs from what its source generates, or has no source
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CONVERT=.venv-galaxy/bin/gxwf-to-native
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

case "${1:-}" in
  generate)
    for source in workflows/*.gxwf.yml; do
      "$CONVERT" "$source" "${source%.gxwf.yml}.ga"
      echo "generated ${source%.gxwf.yml}.ga from $source"
    done ;;
  check)
    rc=0
    for native in workflows/*.ga; do
      source=${native%.ga}.gxwf.yml
      if [ ! -f "$source" ]; then
        echo "workflow source: $native has no $source (write the Format2 source; the .ga is generated)"
        rc=1; continue
      fi
      "$CONVERT" "$source" "$WORK/generated.ga"
      if cmp -s "$WORK/generated.ga" "$native"; then
        echo "workflow source: $native is generated from $source"
      else
        echo "workflow source: $native differs from what $source generates (edit the source, then make workflows):"
        diff -u "$native" "$WORK/generated.ga" | head -40 || true
        rc=1
      fi
    done
    exit "$rc" ;;
  *)
    echo "usage: $0 generate|check" >&2; exit 2 ;;
esac
