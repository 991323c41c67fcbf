#!/usr/bin/env bash
# harness/test_container.sh: `make test-container` (issue 26). Needs the image (`make container`).
#
# 1. The image alone, run as Galaxy runs a job (tool directory read-only, an arbitrary uid that has no entry in
#    the image's /etc/passwd, a writable working directory as HOME, no network): its Python is the image's own
#    (sys.prefix /usr/local), and the tools' containment of uploaded models is complete inside it (Landlock and
#    seccomp, gxkeras.containment.lock_down with required=True; a missing layer is one line and a failure).
# 2. A Galaxy whose job configuration (env/job_conf_container.yml) runs every tool job of this suite in the
#    image through podman (docker_enabled, docker_cmd podman, Galaxy's explicit container resolver only,
#    require_container, GXKERAS_CONTAINMENT=required in the container) runs the IMDB workflow test and the first
#    Galaxy test of each tool; then harness/check_container_jobs.py reads each tool job's own record (Galaxy's
#    job metrics container_id/container_type, the `podman run` line of the job's script) and fails when one
#    ran anywhere else.
# Output in $TEST_OUT/container (default test-output/container).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# CONTAINER_TEST_RUN: the same folder for the in-galaxy half (whose TEST_OUT is this folder).
export CONTAINER_TEST_RUN=${CONTAINER_TEST_RUN:-${TEST_OUT:-$ROOT/test-output}/container}
RUN=$CONTAINER_TEST_RUN
start=$SECONDS
eval "$(bash harness/container.sh env)"
IMAGE=$(bash harness/container.sh image)
podman image exists "$IMAGE" || { echo "test-container: no image $IMAGE here; build it first: make container" >&2; exit 1; }

case ${1:-all} in
  all)
    rm -rf "$RUN"; mkdir -p "$RUN/work"
    chmod 777 "$RUN/work"  # the arbitrary uid below must write there, as a job writes its working directory
    echo "== the image as a job runs it ($IMAGE, --user 4242:4242, tools/ read-only, no network)"
    podman run --rm --network none --user 4242:4242 -v "$ROOT/tools:/tools:ro" -v "$RUN/work:/work:rw" -w /work \
      -e HOME=/work "$IMAGE" python3 -c '
import os, sys
sys.path.insert(0, "/tools/scripts")
from gxkeras import containment
print(f"uid {os.getuid()}, sys.prefix {sys.prefix}, {sys.executable}")
assert sys.prefix == "/usr/local", "Error: the job ran another Python than the image one"
missing = containment.lock_down([], 60, required=True)  # raises on a missing layer, with the reason
print("Containment: complete (Landlock and seccomp)" if not missing else f"Containment: {missing}")
' | tee "$RUN/image-check.txt"
    t_image=$SECONDS
    echo "== a Galaxy that runs every tool job in the image (env/job_conf_container.yml)"
    # Galaxy reads these at start-up: only the tools' own <container> (no registry look-up), and each job's
    # folder in $RUN/jobs, where harness/check_container_jobs.py reads the job scripts.
    export GALAXY_CONFIG_OVERRIDE_CONTAINER_RESOLVERS_CONFIG_FILE=$ROOT/env/container_resolvers_conf.yml
    export GALAXY_CONFIG_OVERRIDE_JOBS_DIRECTORY=$RUN/jobs
    # The job configuration, pointed at this clone's podman configuration (Galaxy gives jobs a clean environment).
    sed "s|@CONTAINER_CACHE@|$(dirname "$CONTAINERS_CONF")|g" env/job_conf_container.yml > "$RUN/job_conf.yml"
    JOB_CONF=$RUN/job_conf.yml TEST_OUT=$RUN CHECK_UPGRADE_MESSAGES=0 \
      bash harness/planemo.sh with-galaxy bash "$0" in-galaxy
    echo "make test-container: green in $((SECONDS - start)) s (image check $((t_image - start)) s)" ;;
  in-galaxy)  # run by the first branch, inside with-galaxy (GALAXY_URL set)
    rc=0
    TEST_OUT=$RUN TESTS_PER_TOOL=1 bash harness/planemo.sh test-tools || rc=1
    TEST_OUT=$RUN bash harness/planemo.sh test-workflows workflows/imdb_rnn.ga || rc=1
    .venv-galaxy/bin/python harness/check_container_jobs.py "$GALAXY_URL" "$GALAXY_ADMIN_KEY" "$IMAGE" \
      "$RUN/jobs" tools/*.xml || rc=1
    exit "$rc" ;;
  *) echo "usage: $0 [all]" >&2; exit 2 ;;
esac
