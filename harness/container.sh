#!/usr/bin/env bash
# harness/container.sh build | image | env
#
# build   (`make container`) builds the tools' job image (container/Containerfile) with podman, with no container registry (PyPI and a Debian mirror only):
#         1. installs podman, runc and debootstrap from Debian (apt-get) when one is missing;
#         2. writes .cache/container/containers.conf and storage.conf and uses them through CONTAINERS_CONF and
#            CONTAINERS_STORAGE_CONF (images are stored under .cache/container/storage, not the system's);
#         3. makes a local stand-in for the base `python:3.12-slim-bookworm` (these machines reach no container
#            registry): Debian bookworm from debootstrap plus the machine's CPython 3.12 (the pyenv Python
#            harness/envs.sh builds .venv-tools with) in /usr/local, as the official image has it;
#         4. downloads or builds every wheel of env/tools-requirements.txt on the host (.cache/wheelhouse; the large
#            libraries' symbol tables stripped, harness/strip_wheels.py), then
#            builds the image from that wheelhouse with --network=none, tagged IMAGE (the name tools/macros.xml
#            declares). Each step is skipped when its inputs are unchanged (a label holds their checksum).
# image   prints the image's name and tag (the <container> of tools/macros.xml).
# env     prints the exports that make a later `podman` (or a Galaxy whose docker_cmd is podman) use the same
#         configuration and storage: eval "$(bash harness/container.sh env)".
#
# Why this configuration (measured on these machines, issue 26): podman 4.3 from Debian runs containers here with
# runtime "runc", no default ulimits and the cgroupfs manager; crun fails on the host's hybrid cgroup mode and
# on setrlimit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CACHE=$ROOT/.cache/container
WHEELHOUSE=$ROOT/.cache/wheelhouse
BASE_IMAGE=docker.io/library/python:3.12-slim-bookworm
# Debian packages of the stand-in base beyond debootstrap's minbase: the libraries CPython's extension modules
# link (ssl, ffi, sqlite, bz2, lzma, readline, uuid, nsl), the certificates and time zones the official image
# carries, and libseccomp2, which the tools' containment needs (the official image has it too, through apt).
BASE_PACKAGES=ca-certificates,netbase,tzdata,libseccomp2,libbz2-1.0,libexpat1,libffi8,liblzma5,libncursesw6,libreadline8,libsqlite3-0,libssl3,libuuid1,zlib1g,libnsl2,libtirpc3,libcrypt1
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
INPUTS_LABEL=org.galaxy-keras.inputs
log() { echo "[container $(date +%T)] $*"; }
fail() { echo "container: $*" >&2; exit 1; }

tool_version() {  # @TOOL_VERSION@ of tools/macros.xml: the image's version label and tag
  sed -n 's:.*<token name="@TOOL_VERSION@">\([^<]*\)</token>.*:\1:p' tools/macros.xml
}
image_name() {  # the <container> that tools/macros.xml declares, its token expanded (one source of truth)
  sed -n 's:.*<container type="docker">\([^<]*\)</container>.*:\1:p' tools/macros.xml | head -1 |
    sed "s/@TOOL_VERSION@/$(tool_version)/"
}

export_configuration() {
  mkdir -p "$CACHE/storage" "$CACHE/run"
  cat > "$CACHE/containers.conf" <<CONF
# Written by harness/container.sh: how podman runs containers on these machines (see that script).
[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  cat > "$CACHE/storage.conf" <<CONF
# Written by harness/container.sh: this repository's own image store (not the system's /var/lib/containers).
[storage]
driver = "overlay"
graphroot = "$CACHE/storage"
runroot = "$CACHE/run"
CONF
  export CONTAINERS_CONF=$CACHE/containers.conf CONTAINERS_STORAGE_CONF=$CACHE/storage.conf
}

ensure_host_tools() {
  local missing=() sudo=()
  for tool in podman runc debootstrap; do command -v "$tool" > /dev/null || missing+=("$tool"); done
  [ ${#missing[@]} = 0 ] && return
  if [ "$(id -u)" != 0 ]; then
    command -v sudo > /dev/null && sudo -n true 2> /dev/null ||
      fail "${missing[*]} missing, and installing them needs root (no passwordless sudo): apt-get install ${missing[*]}"
    sudo=(sudo -n)
  fi
  log "installing ${missing[*]} (apt-get) ..."
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
    > "$CACHE/apt.log" 2>&1 || { tail -5 "$CACHE/apt.log" >&2; fail "apt-get install ${missing[*]} failed"; }
}

label_of() {  # label_of IMAGE LABEL: the label's value, empty when the image or label is absent
  podman image inspect --format "{{ index .Labels \"$2\" }}" "$1" 2> /dev/null || true
}

host_python() {  # the CPython 3.12 harness/envs.sh uses (pyenv, else PATH)
  local p
  p=$(PYENV_VERSION=$(pyenv versions --bare 2> /dev/null | grep -E '^3\.12(\.[0-9]+)?$' | tail -1) \
        pyenv which python3.12 2> /dev/null) || p=$(command -v python3.12) || fail "no CPython 3.12 found (pyenv or PATH)"
  echo "$p"
}

build_base() {
  local python prefix version sum rootfs
  python=$(host_python)
  prefix=$("$python" -c 'import sys; print(sys.base_prefix)')
  version=$("$python" -c 'import platform; print(platform.python_version())')
  sum=$(printf '%s\n' "$version" "$BASE_PACKAGES" "$(sed -n '/^build_base()/,/^}/p' "$0")" | sha256sum | cut -c1-16)
  if [ "$(label_of "$BASE_IMAGE" "$INPUTS_LABEL")" = "$sum" ]; then log "base $BASE_IMAGE up to date"; return; fi
  if podman image exists "$BASE_IMAGE" && [ -z "$(label_of "$BASE_IMAGE" org.galaxy-keras.stand-in)" ]; then
    log "base $BASE_IMAGE: the one in the store (pulled, not a stand-in)"; return
  fi
  log "making the stand-in base $BASE_IMAGE: Debian bookworm (debootstrap) + CPython $version from $prefix ..."
  rootfs=$CACHE/base-rootfs
  rm -rf "$rootfs"
  debootstrap --variant=minbase --include="$BASE_PACKAGES" bookworm "$rootfs" "$DEBIAN_MIRROR" \
    > "$CACHE/debootstrap.log" 2>&1 || { tail -5 "$CACHE/debootstrap.log" >&2; fail "debootstrap of bookworm failed"; }
  # CPython into /usr/local, where the official image has it; without its test suite, IDLE, static library
  # and this machine's own site-packages additions (only pip is kept, as in the official image).
  mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/local/lib"
  cp -a "$prefix/bin/python3.12" "$rootfs/usr/local/bin/"
  cp -a "$prefix"/lib/libpython3*.so* "$rootfs/usr/local/lib/"
  tar -C "$prefix/lib" --exclude=python3.12/test --exclude=python3.12/idlelib --exclude=python3.12/turtledemo \
      --exclude='python3.12/config-*/*.a' --exclude=python3.12/site-packages -c python3.12 | tar -C "$rootfs/usr/local/lib" -x
  mkdir -p "$rootfs/usr/local/lib/python3.12/site-packages"
  cp -a "$prefix/lib/python3.12/site-packages/pip" "$prefix"/lib/python3.12/site-packages/pip-*.dist-info \
        "$rootfs/usr/local/lib/python3.12/site-packages/"
  for name in python3 python; do ln -sf python3.12 "$rootfs/usr/local/bin/$name"; done
  printf '#!/usr/local/bin/python3.12\nimport sys\nfrom pip._internal.cli.main import main\nsys.exit(main())\n' \
    > "$rootfs/usr/local/bin/pip3"
  chmod 755 "$rootfs/usr/local/bin/pip3"; ln -sf pip3 "$rootfs/usr/local/bin/pip"
  chroot "$rootfs" /sbin/ldconfig
  # What debian:bookworm-slim leaves out: documentation, manuals, translations, apt's lists and caches.
  rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
         "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/*
  tar -C "$rootfs" --numeric-owner -c . | podman import -q \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change "ENV PYTHON_VERSION=$version" --change 'CMD ["python3"]' \
    --change "LABEL $INPUTS_LABEL=$sum" \
    --change "LABEL org.galaxy-keras.stand-in=\"local stand-in for $BASE_IMAGE: Debian bookworm (debootstrap) + CPython $version\"" \
    - "$BASE_IMAGE" > /dev/null || fail "podman import of the stand-in base failed"
  rm -rf "$rootfs"
  log "base $BASE_IMAGE made ($(podman image inspect --format '{{.Size}}' "$BASE_IMAGE" | numfmt --to=si)B)"
}

# Every wheel of env/tools-requirements.txt, for the image's Python (CPython 3.12, glibc x86_64). galaxy-ml 0.11.0
# is an sdist with two Cython modules, so `pip wheel` (which builds it once, on the host's bookworm, the same glibc
# as the image) rather than `pip download --only-binary`. Then the large native libraries lose their symbol
# tables (harness/strip_wheels.py: 320 MB of the image; the build itself has no binutils).
build_wheelhouse() {
  local sum
  sum=$(sha256sum env/tools-requirements.txt | cut -d' ' -f1)
  if [ -f "$WHEELHOUSE/.requirements.sha256" ] && [ "$(cat "$WHEELHOUSE/.requirements.sha256")" = "$sum" ]; then
    log "wheelhouse up to date ($(du -sh "$WHEELHOUSE" | cut -f1))"; return
  fi
  log "filling the wheelhouse from PyPI ..."
  rm -rf "$WHEELHOUSE"; mkdir -p "$WHEELHOUSE"
  "$(host_python)" -m pip wheel --disable-pip-version-check -q -w "$WHEELHOUSE" -r env/tools-requirements.txt \
    > "$CACHE/wheelhouse.log" 2>&1 || {
      grep -v "is ignored: it is neither" "$CACHE/wheelhouse.log" | tail -5 >&2; fail "pip wheel for env/tools-requirements.txt failed"; }
  "$(host_python)" harness/strip_wheels.py "$WHEELHOUSE" || fail "stripping the wheels' libraries failed (needs binutils' strip)"
  echo "$sum" > "$WHEELHOUSE/.requirements.sha256"
  log "wheelhouse filled ($(du -sh "$WHEELHOUSE" | cut -f1))"
}

build_image() {
  local image sum base_id start
  image=$(image_name)
  [ -n "$image" ] || fail "tools/macros.xml declares no <container type=\"docker\">"
  base_id=$(podman image inspect --format '{{.Id}}' "$BASE_IMAGE")
  sum=$(cat container/Containerfile env/tools-requirements.txt <(echo "$base_id") | sha256sum | cut -c1-16)
  if [ "$(label_of "$image" "$INPUTS_LABEL")" = "$sum" ]; then log "image $image up to date"; return; fi
  cp env/tools-requirements.txt "$WHEELHOUSE/tools-requirements.txt"
  log "building $image (no network) ..."
  start=$SECONDS
  podman build --pull=never --network=none --layers=false -f container/Containerfile \
    --build-arg VERSION="$(tool_version)" --label "$INPUTS_LABEL=$sum" -t "$image" "$WHEELHOUSE" \
    > "$CACHE/build.log" 2>&1 || { tail -15 "$CACHE/build.log" >&2; fail "podman build of $image failed (log: $CACHE/build.log)"; }
  grep -h "^imports ok" "$CACHE/build.log" || true
  podman image prune -f > /dev/null
  log "image $image built in $((SECONDS - start)) s, $(podman image inspect --format '{{.Size}}' "$image" | numfmt --to=si)B"
}

case ${1:-} in
  build)
    mkdir -p "$CACHE"
    ensure_host_tools
    export_configuration
    build_base
    build_wheelhouse
    build_image ;;
  env)
    export_configuration
    echo "export CONTAINERS_CONF=$CONTAINERS_CONF CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF" ;;
  image)
    image_name ;;
  *) fail "usage: harness/container.sh build | image | env" ;;
esac
