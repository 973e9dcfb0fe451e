#!/bin/sh
# rke2-uninstall.sh (simulator): removes what install.sh installed plus the node's RKE2 state, like the
# real script for a tarball install. The installer rewrites /usr/local below when it installed under
# another prefix.
set -e

log() {
    echo "[$(date +'%Y-%m-%d %H:%M:%S')] $*"
}

if [ "$(id -u)" -ne 0 ]; then
    log "ERROR: $(basename "$0"): must be run as root" >&2
    exit 1
fi

INSTALL_RKE2_ROOT=${INSTALL_RKE2_ROOT:-/usr/local}
RKE2_DATA_DIR=${RKE2_DATA_DIR:-/var/lib/rancher/rke2}
export RKE2_DATA_DIR

killall_script="$(dirname "$0")/rke2-killall.sh"
if [ -e "${killall_script}" ]; then
    log "Running killall script"
    "${killall_script}"
fi

log "Disabling rke2 services"
if command -v systemctl >/dev/null 2>&1; then
    systemctl disable rke2-server || true
    systemctl disable rke2-agent || true
    systemctl reset-failed rke2-server || true
    systemctl reset-failed rke2-agent || true
fi

log "Removing rke2 files"
find "${INSTALL_RKE2_ROOT}/lib/systemd/system" -name "rke2-*.service" -delete 2>/dev/null || true
find "${INSTALL_RKE2_ROOT}/lib/systemd/system" -name "rke2-*.env" -delete 2>/dev/null || true
find /etc/systemd/system -name "rke2-*.service" -delete 2>/dev/null || true
rm -f -- "${INSTALL_RKE2_ROOT}/bin/rke2" "${INSTALL_RKE2_ROOT}/bin/rke2-killall.sh"
rm -rf -- "${INSTALL_RKE2_ROOT}/share/rke2"
rm -rf /etc/rancher/rke2 /etc/rancher/node
rm -d /etc/rancher 2>/dev/null || true
rm -rf -- "${RKE2_DATA_DIR}"
if command -v systemctl >/dev/null 2>&1; then
    systemctl daemon-reload || true
fi
rm -f -- "${INSTALL_RKE2_ROOT}/bin/rke2-uninstall.sh"
log "rke2 uninstalled"
