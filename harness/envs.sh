#!/usr/bin/env bash
# Create (or refresh) the two environments this project needs, from nothing, offline except PyPI.
#
#   .venv-tools   Python 3.12 + galaxy-ml 0.11.0 (Keras 3, TensorFlow): what the tools' scripts run with.
#   .venv-galaxy  Python 3.11 + galaxy 26.1.1 + planemo 0.75.47: a local Galaxy to test and serve the tools.
#   .venv-lint    ruff and mypy (env/lint-requirements.txt), for `make lint`.
#   .venv-pulsar  Python 3.11 + pulsar-app (only with --pulsar: `make test-pulsar` needs it, `make test` not).
#
# A venv is rebuilt when its requirements file changed (a stamp holds the file's checksum), so a cache
# left on the machine is used but never trusted blindly. Also writes:
#   .galaxy-deps/galaxy-ml/0.11.0/env.sh   the tool dependency that Galaxy's `galaxy_packages` resolver
#                                          finds for <requirement version="0.11.0">galaxy-ml</requirement>
#   .galaxy-deps/jax/VERSION/env.sh        the same for keras_model_config's jax requirement
#   .galaxy-deps/dependency_resolvers_conf.xml   the resolver configuration planemo passes to Galaxy
#   .galaxy-root/                          the shim planemo takes as --galaxy_root (see galaxy_root_shim.sh)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
WITH_PULSAR=false
[ "${1:-}" = --pulsar ] && WITH_PULSAR=true
log() { echo "[envs $(date +%T)] $*"; }

python_for() {  # python_for 3.12 -> path of a CPython 3.12 interpreter
  local v=$1 p
  p=$(PYENV_VERSION=$(pyenv versions --bare 2>/dev/null | grep -E "^${v//./\\.}(\.[0-9]+)?$" | tail -1) \
        pyenv which "python$v" 2>/dev/null) || p=$(command -v "python$v") || {
    echo "envs: no Python $v found (pyenv or PATH)" >&2; exit 1; }
  echo "$p"
}

ensure_venv() {  # ensure_venv DIR PYTHON_VERSION REQUIREMENTS_FILE
  local dir=$1 pyver=$2 req=$3 sum
  sum=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -f "$dir/.requirements.sha256" ] && [ "$(cat "$dir/.requirements.sha256")" = "$sum" ]; then
    log "$dir up to date"; return
  fi
  log "building $dir from $req (Python $pyver) ..."
  rm -rf "$dir"
  "$(python_for "$pyver")" -m venv "$dir"
  # Quiet install; on failure show pip's output, minus this image's warnings about absent local mirrors.
  if ! { "$dir/bin/pip" install --disable-pip-version-check -q --upgrade pip &&
         "$dir/bin/pip" install --disable-pip-version-check -q -r "$req"; } > "$dir.pip.log" 2>&1; then
    grep -v "is ignored: it is neither" "$dir.pip.log" >&2; echo "envs: pip failed for $dir" >&2; exit 1
  fi
  rm -f "$dir.pip.log"
  echo "$sum" > "$dir/.requirements.sha256"
  log "$dir built ($(du -sh "$dir" | cut -f1))"
}

ensure_venv .venv-tools 3.12 env/tools-requirements.txt
.venv-tools/bin/python -c 'import galaxy_ml, keras, tensorflow' 2>/dev/null || {
  echo "envs: .venv-tools is broken (galaxy_ml/keras/tensorflow do not import)" >&2; exit 1; }
ensure_venv .venv-galaxy 3.11 env/galaxy-requirements.txt
[ -x .venv-galaxy/bin/planemo ] && [ -x .venv-galaxy/bin/galaxy ] || {
  echo "envs: .venv-galaxy lacks planemo or galaxy" >&2; exit 1; }
ensure_venv .venv-lint 3.12 env/lint-requirements.txt
if $WITH_PULSAR; then
  ensure_venv .venv-pulsar 3.11 env/pulsar-requirements.txt
  [ -x .venv-pulsar/bin/pulsar-serve ] || { echo "envs: .venv-pulsar lacks pulsar-serve" >&2; exit 1; }
fi

# The tool dependency, as a Galaxy admin would provide it without conda (galaxy_packages resolver).
dep=.galaxy-deps/galaxy-ml/0.11.0
mkdir -p "$dep"
cat > "$dep/env.sh" <<ENV
# galaxy-ml 0.11.0 (Python 3.12, Keras 3, TensorFlow): sourced by Galaxy before each tool job.
export PATH="$ROOT/.venv-tools/bin:\$PATH"
export TF_CPP_MIN_LOG_LEVEL=2
# Galaxy gives every job a fresh HOME: without this, each job that imports matplotlib rebuilds its font
# cache there, and under load prints "Matplotlib is building the font cache" into the job's stderr
# (which broke a one-line-stderr tool test once). One cache for all jobs instead.
export MPLCONFIGDIR="$ROOT/.galaxy-deps/matplotlib"
ENV
# jax (keras_model_config's requirement) lives in the same venv: its env.sh only has to exist for the resolver.
dep=.galaxy-deps/jax/$(sed -n 's/^jax==//p' env/tools-requirements.txt)
mkdir -p "$dep"
cat > "$dep/env.sh" <<ENV
# jax (Keras' JAX backend, for keras_model_config): installed in the galaxy-ml environment above.
export PATH="$ROOT/.venv-tools/bin:\$PATH"
ENV
# How the test/dev Galaxy resolves <requirement>s: from this directory, never by installing into
# Galaxy's own virtualenv. (planemo's --tool_dependency_dir is not passed on to Galaxy, hence base_path.)
# A production Galaxy would typically resolve galaxy-ml with conda instead.
cat > .galaxy-deps/dependency_resolvers_conf.xml <<XML
<dependency_resolvers>
    <galaxy_packages base_path="$ROOT/.galaxy-deps"/>
</dependency_resolvers>
XML
bash "$ROOT/harness/galaxy_root_shim.sh" "$ROOT/.galaxy-root" "$ROOT/.venv-galaxy"
log "environments ready"
