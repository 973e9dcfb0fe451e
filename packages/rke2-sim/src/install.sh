#!/bin/sh
# install.sh (simulator): the RKE2 installer's tarball path, with the real script's interface
# (docs/rke2-behaviour.md "Installer"), installing the RKE2 simulator built by packages/rke2-sim/src/artifacts.ts.
#
# Environment, as the real installer:
#   INSTALL_RKE2_TYPE           server (default) | agent (INSTALL_RKE2_EXEC is an alias)
#   INSTALL_RKE2_VERSION        release to download (unset: resolved from the channel)
#   INSTALL_RKE2_CHANNEL        default stable
#   INSTALL_RKE2_METHOD         tar (rpm is not simulated and fails)
#   INSTALL_RKE2_TAR_PREFIX     default /usr/local (/opt/rke2 when /usr/local is a mount point or read-only)
#   INSTALL_RKE2_ARTIFACT_PATH  air-gap directory holding sha256sum-<arch>.txt and rke2.linux-<arch>.tar.gz
#   INSTALL_RKE2_ARTIFACT_URL   release mirror laid out as <url>/<version>/<artifact>
#   INSTALL_RKE2_CHANNEL_URL    channel server (<url>/<channel> redirects to .../<version>)
#   INSTALL_RKE2_AGENT_IMAGES_DIR  default /var/lib/rancher/rke2/agent/images
#   INSTALL_RKE2_SKIP_RELOAD    skip `systemctl daemon-reload`
#   ARCH                        overrides `uname -m`, as in the real script
#   DEBUG=1                     trace
# Simulator only:
#   INSTALL_RKE2_SIM_RELEASES_URL  flat mirror: <url>/<artifact>, no version or channel lookup.
# Without an artifact path or a mirror the real script downloads from GitHub. This one never reaches the
# internet (the test world has none): it prints the same URLs and fails with "download failed".
#
# Like the real installer it never enables or starts a service.

if [ "${DEBUG}" = 1 ]; then
    set -x
fi

info() {
    echo "[INFO] " "$@"
}

warn() {
    echo "[WARN] " "$@" >&2
}

fatal() {
    echo "[ERROR] " "$@" >&2
    exit 1
}

setup_env() {
    DEFAULT_TAR_PREFIX="/usr/local"
    if [ "$(id -u)" -ne 0 ]; then
        fatal "You need to be root to perform this install"
    fi
    INSTALL_RKE2_CHANNEL=${INSTALL_RKE2_CHANNEL:-stable}
    INSTALL_RKE2_TYPE=${INSTALL_RKE2_TYPE:-${INSTALL_RKE2_EXEC:-server}}
    case "${INSTALL_RKE2_TYPE}" in
    server | agent) ;;
    *) fatal "invalid INSTALL_RKE2_TYPE '${INSTALL_RKE2_TYPE}': expected server or agent" ;;
    esac
    if [ -z "${INSTALL_RKE2_TAR_PREFIX}" ]; then
        INSTALL_RKE2_TAR_PREFIX=${DEFAULT_TAR_PREFIX}
        if mountpoint -q "${DEFAULT_TAR_PREFIX}" 2>/dev/null || ! target_writable "${DEFAULT_TAR_PREFIX}"; then
            INSTALL_RKE2_TAR_PREFIX="/opt/rke2"
            warn "${DEFAULT_TAR_PREFIX} is read-only or a mount point; installing to ${INSTALL_RKE2_TAR_PREFIX}"
        fi
    fi
    INSTALL_RKE2_AGENT_IMAGES_DIR=${INSTALL_RKE2_AGENT_IMAGES_DIR:-/var/lib/rancher/rke2/agent/images}
}

target_writable() {
    mkdir -p "$1" 2>/dev/null && touch "$1/.rke2-ro-test" 2>/dev/null && rm -f "$1/.rke2-ro-test"
}

check_method_conflict() {
    case "${INSTALL_RKE2_METHOD}" in
    yum | rpm | dnf)
        fatal "the ${INSTALL_RKE2_METHOD} install method is not simulated; use the tarball method"
        ;;
    esac
    if command -v rpm >/dev/null 2>&1 && rpm -q rke2-common >/dev/null 2>&1; then
        fatal "Cannot perform ${INSTALL_RKE2_METHOD:-tar} install on host with existing RKE2 RPMs - please run rke2-uninstall.sh first"
    fi
}

setup_arch() {
    case ${ARCH:=$(uname -m)} in
    x86_64 | amd64) ARCH=amd64 ;;
    aarch64 | arm64) ARCH=arm64 ;;
    s390x) ARCH=s390x ;;
    *) fatal "unsupported architecture ${ARCH}" ;;
    esac
    SUFFIX=$(uname -s | tr '[:upper:]' '[:lower:]')-${ARCH}
}

verify_downloader() {
    command -v curl >/dev/null 2>&1 || fatal "can not find curl for downloading files"
}

setup_tmp() {
    TMP_DIR=$(mktemp -d -t rke2-install.XXXXXXXXXX) || fatal "cannot create a temporary directory"
    TMP_CHECKSUMS=${TMP_DIR}/rke2.checksums
    TMP_TARBALL=${TMP_DIR}/rke2.tarball
    TMP_AIRGAP_TARBALL=${TMP_DIR}/rke2-images.tarball
    trap cleanup INT EXIT
}

# shellcheck disable=SC2317 # invoked by the trap
cleanup() {
    code=$?
    set +e
    trap - EXIT
    rm -rf "${TMP_DIR}"
    exit "${code}"
}

# download <dest> <url>
download() {
    if ! curl -o "$1" -fsSL "$2"; then
        fatal "download failed"
    fi
}

exists_remote() {
    curl -o /dev/null -fsLI "$1" >/dev/null 2>&1
}

stage_local() {
    info "staging local checksums from ${INSTALL_RKE2_ARTIFACT_PATH}/sha256sum-${ARCH}.txt"
    cp -f "${INSTALL_RKE2_ARTIFACT_PATH}/sha256sum-${ARCH}.txt" "${TMP_CHECKSUMS}" ||
        fatal "cannot read ${INSTALL_RKE2_ARTIFACT_PATH}/sha256sum-${ARCH}.txt"
    for format in zst gz; do
        image="${INSTALL_RKE2_ARTIFACT_PATH}/rke2-images.${SUFFIX}.tar.${format}"
        if [ -f "${image}" ]; then
            info "staging ${format} airgap image tarball from ${image}"
            cp -f "${image}" "${TMP_AIRGAP_TARBALL}"
            AIRGAP_FORMAT=${format}
            break
        fi
    done
    info "staging tarball from ${INSTALL_RKE2_ARTIFACT_PATH}/rke2.${SUFFIX}.tar.gz"
    cp -f "${INSTALL_RKE2_ARTIFACT_PATH}/rke2.${SUFFIX}.tar.gz" "${TMP_TARBALL}" ||
        fatal "cannot read ${INSTALL_RKE2_ARTIFACT_PATH}/rke2.${SUFFIX}.tar.gz"
}

stage_remote() {
    if [ -n "${INSTALL_RKE2_SIM_RELEASES_URL}" ]; then
        base=${INSTALL_RKE2_SIM_RELEASES_URL%/}
        info "using release mirror ${base}"
    else
        if [ -z "${INSTALL_RKE2_VERSION}" ]; then
            info "finding release for channel ${INSTALL_RKE2_CHANNEL}"
            # The default channel server (update.rke2.io) is on the internet, which the simulator never
            # contacts; a mirror given by INSTALL_RKE2_CHANNEL_URL is asked like the real script does.
            [ -n "${INSTALL_RKE2_CHANNEL_URL}" ] || fatal "download failed"
            INSTALL_RKE2_VERSION=$(curl -w "%{url_effective}" -L -s -S "${INSTALL_RKE2_CHANNEL_URL}/${INSTALL_RKE2_CHANNEL}" \
                -o /dev/null | sed -e 's|.*/||' -e 's/%2B/+/g')
            [ -n "${INSTALL_RKE2_VERSION}" ] || fatal "download failed"
        fi
        info "using ${INSTALL_RKE2_VERSION} as release"
        version_urlsafe=$(echo "${INSTALL_RKE2_VERSION}" | sed 's/+/%2B/g')
        base="${INSTALL_RKE2_ARTIFACT_URL:-https://github.com/rancher/rke2/releases/download}/${version_urlsafe}"
        if [ -z "${INSTALL_RKE2_ARTIFACT_URL}" ]; then
            info "downloading checksums at ${base}/sha256sum-${ARCH}.txt"
            fatal "download failed"
        fi
    fi
    info "downloading checksums at ${base}/sha256sum-${ARCH}.txt"
    download "${TMP_CHECKSUMS}" "${base}/sha256sum-${ARCH}.txt"
    for format in zst gz; do
        if grep -q "rke2-images.${SUFFIX}.tar.${format}" "${TMP_CHECKSUMS}" &&
            exists_remote "${base}/rke2-images.${SUFFIX}.tar.${format}"; then
            info "downloading airgap tarball at ${base}/rke2-images.${SUFFIX}.tar.${format}"
            download "${TMP_AIRGAP_TARBALL}" "${base}/rke2-images.${SUFFIX}.tar.${format}"
            AIRGAP_FORMAT=${format}
            break
        fi
    done
    info "downloading tarball at ${base}/rke2.${SUFFIX}.tar.gz"
    download "${TMP_TARBALL}" "${base}/rke2.${SUFFIX}.tar.gz"
}

# verify <file> <artifact name>: compares the file's sha256 with the checksum file's line for the name.
verify() {
    expected=$(awk -v name="$2" '$2 == name || $2 == "*" name { print $1; exit }' "${TMP_CHECKSUMS}")
    actual=$(sha256sum "$1" | awk '{print $1}')
    if [ "${expected}" != "${actual}" ]; then
        fatal "download sha256 does not match ${expected}, got ${actual}"
    fi
}

install_airgap_tarball() {
    [ -n "${AIRGAP_FORMAT}" ] || return 0
    info "verifying airgap tarball"
    verify "${TMP_AIRGAP_TARBALL}" "rke2-images.${SUFFIX}.tar.${AIRGAP_FORMAT}"
    mkdir -p "${INSTALL_RKE2_AGENT_IMAGES_DIR}"
    if [ "${AIRGAP_FORMAT}" = zst ]; then
        info "installing airgap tarball to ${INSTALL_RKE2_AGENT_IMAGES_DIR}"
        mv -f "${TMP_AIRGAP_TARBALL}" "${INSTALL_RKE2_AGENT_IMAGES_DIR}/rke2-images.${SUFFIX}.tar.zst"
    else
        info "decompressing airgap tarball to ${INSTALL_RKE2_AGENT_IMAGES_DIR}"
        gzip -dc "${TMP_AIRGAP_TARBALL}" >"${INSTALL_RKE2_AGENT_IMAGES_DIR}/rke2-images.${SUFFIX}.tar"
    fi
}

unpack_tarball() {
    info "unpacking tarball file to ${INSTALL_RKE2_TAR_PREFIX}"
    mkdir -p "${INSTALL_RKE2_TAR_PREFIX}"
    tar xzf "${TMP_TARBALL}" -C "${INSTALL_RKE2_TAR_PREFIX}" || fatal "cannot unpack the tarball"
    if [ "${INSTALL_RKE2_TAR_PREFIX}" != "${DEFAULT_TAR_PREFIX}" ]; then
        info "updating tarball contents to reflect install path"
        sed -i "s|${DEFAULT_TAR_PREFIX}|${INSTALL_RKE2_TAR_PREFIX}|" \
            "${INSTALL_RKE2_TAR_PREFIX}"/lib/systemd/system/rke2-*.service \
            "${INSTALL_RKE2_TAR_PREFIX}/bin/rke2-uninstall.sh"
        info "moving systemd units to /etc/systemd/system"
        mkdir -p /etc/systemd/system
        mv -f "${INSTALL_RKE2_TAR_PREFIX}"/lib/systemd/system/rke2-*.service /etc/systemd/system/
        info "install complete; you may want to run:  export PATH=\$PATH:${INSTALL_RKE2_TAR_PREFIX}/bin"
    fi
}

do_install() {
    setup_env
    check_method_conflict
    setup_arch
    setup_tmp
    if [ -n "${INSTALL_RKE2_ARTIFACT_PATH}" ]; then
        stage_local
    else
        verify_downloader
        stage_remote
    fi
    install_airgap_tarball
    info "verifying tarball"
    verify "${TMP_TARBALL}" "rke2.${SUFFIX}.tar.gz"
    unpack_tarball
    if [ -z "${INSTALL_RKE2_SKIP_RELOAD}" ]; then
        systemctl daemon-reload
    fi
}

do_install
exit 0
