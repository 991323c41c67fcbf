#!/usr/bin/env bash
# harness/workflows.sh generate | check
#
# Each workflow has one source: workflows/NAME.gxwf.yml (gxformat2's Format2, readable and diffable).
# The native workflows/NAME.ga that Galaxy, planemo and the Tool Shed read is generated from it with
# gxformat2's converter (the code of its gxwf-to-native, in .venv-galaxy); a fixed `uuid:` in the source
# keeps the output stable. convert() runs every conversion in one Python process: importing gxformat2 takes
# about 3 CPU s, each conversion 1.5 (a process per workflow cost `make test` 8 CPU s per workflow).
#   generate  rewrites every NAME.ga from its NAME.gxwf.yml
#   check     fails when a committed NAME.ga differs from what its source generates, or has no source
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

convert() {  # SOURCE NATIVE [SOURCE NATIVE ...]: writes each NATIVE from its Format2 SOURCE
  .venv-galaxy/bin/python -c 'import sys
from gxformat2.converter import main
for source, native in zip(sys.argv[1::2], sys.argv[2::2]):
    main([source, native])' "$@"
}

case "${1:-}" in
  generate)
    pairs=()
    for source in workflows/*.gxwf.yml; do pairs+=("$source" "${source%.gxwf.yml}.ga"); done
    convert "${pairs[@]}"
    for source in workflows/*.gxwf.yml; do echo "generated ${source%.gxwf.yml}.ga from $source"; done ;;
  check)
    rc=0 pairs=() natives=()
    for native in workflows/*.ga; do
      source=${native%.ga}.gxwf.yml
      if [ ! -f "$source" ]; then
        echo "workflow source: $native has no $source (write the Format2 source; the .ga is generated)"
        rc=1; continue
      fi
      natives+=("$native")
      pairs+=("$source" "$WORK/$(basename "$native")")
    done
    [ ${#pairs[@]} -eq 0 ] || convert "${pairs[@]}"
    for native in ${natives[@]+"${natives[@]}"}; do
      source=${native%.ga}.gxwf.yml
      if cmp -s "$WORK/$(basename "$native")" "$native"; then
        echo "workflow source: $native is generated from $source"
      else
        echo "workflow source: $native differs from what $source generates (edit the source, then make workflows):"
        diff -u "$native" "$WORK/$(basename "$native")" | head -40 || true
        rc=1
      fi
    done
    exit "$rc" ;;
  *)
    echo "usage: $0 generate|check" >&2; exit 2 ;;
esac
