#!/usr/bin/env bash
# Prepares this machine to build and run the model image without a Docker engine:
# installs podman (rootful, runc) from Debian, configures it for hosts whose cgroup layout
# and resource limits break the defaults, and creates the local base image that image builds
# start from when no container registry is reachable.
#
# Idempotent: every step checks before it acts, so a second run only verifies.
#
# Environment:
#   CONTAINER_BASE_IMAGE  name of the local base image (default localhost/debian-python3:bookworm);
#                         the container tests read the same variable.
#   DEBIAN_MIRROR         mirror debootstrap downloads from (default: the first Debian URI apt uses).
set -euo pipefail

readonly BASE_IMAGE="${CONTAINER_BASE_IMAGE:-localhost/debian-python3:bookworm}"
readonly PACKAGES=(podman buildah runc debootstrap uidmap slirp4netns fuse-overlayfs)
readonly CONTAINERS_CONF=/etc/containers/containers.conf
readonly MANAGED_MARKER="# Managed by scripts/setup-container-engine.sh"

log() { printf 'setup-container-engine: %s\n' "$*" >&2; }

if [[ "$(id -u)" -ne 0 ]]; then
  log "must run as root (rootful podman, apt-get and debootstrap need it); try: sudo $0"
  exit 1
fi

install_packages() {
  local missing=()
  for package in "${PACKAGES[@]}"; do
    dpkg-query --show --showformat='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$package")
  done
  if ((${#missing[@]} == 0)); then
    log "packages present: ${PACKAGES[*]}"
    return
  fi
  log "installing: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

write_containers_conf() {
  # crun and the default runc limits call setrlimit with values above the host's hard limits,
  # which fails in unprivileged sandboxes; pin the container limits to what the host allows.
  local nofile nproc
  nofile="$(ulimit -Hn)"
  nproc="$(ulimit -Hu)"
  [[ "$nofile" == unlimited ]] && nofile=1048576
  if [[ "$nproc" == unlimited ]] || ((nproc > 32768)); then nproc=32768; fi

  local desired
  desired="$(cat <<EOF
$MANAGED_MARKER
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]

[engine]
# crun fails on this host's cgroup layout; runc works.
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
)"
  if [[ -f "$CONTAINERS_CONF" ]] && [[ "$(cat "$CONTAINERS_CONF")" == "$desired" ]]; then
    log "$CONTAINERS_CONF up to date"
    return
  fi
  if [[ -f "$CONTAINERS_CONF" ]] && ! head -n1 "$CONTAINERS_CONF" | grep -qF "$MANAGED_MARKER"; then
    cp "$CONTAINERS_CONF" "$CONTAINERS_CONF.before-setup"
    log "kept the previous configuration as $CONTAINERS_CONF.before-setup"
  fi
  mkdir -p "$(dirname "$CONTAINERS_CONF")"
  printf '%s\n' "$desired" >"$CONTAINERS_CONF"
  log "wrote $CONTAINERS_CONF"
}

debian_mirror() {
  if [[ -n "${DEBIAN_MIRROR:-}" ]]; then
    echo "$DEBIAN_MIRROR"
    return
  fi
  local uri
  uri="$(grep -hoE '^(URIs:|deb) *[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
    | head -n1 | awk '{print $2}')" || true
  echo "${uri:-http://deb.debian.org/debian}"
}

build_base_image() {
  if podman image exists "$BASE_IMAGE"; then
    log "base image $BASE_IMAGE present"
    return
  fi
  local rootfs
  rootfs="$(mktemp -d /var/tmp/base-rootfs.XXXXXX)"
  # shellcheck disable=SC2064  # expanded now, so the trap removes this very directory
  trap "rm -rf '$rootfs'" EXIT
  log "debootstrapping Debian bookworm into $rootfs (about a minute)"
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$rootfs" "$(debian_mirror)" >/dev/null
  # Package caches and lists would only bloat every image built on top.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import --quiet --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
  log "imported $BASE_IMAGE"
}

install_packages
write_containers_conf
podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}}' >/dev/null
build_base_image
log "ready: podman $(podman version --format '{{.Client.Version}}'), base image $BASE_IMAGE"
