#!/bin/sh
# rke2-killall.sh (simulator): stops every process the RKE2 simulator started for this node.
# Like the real script it stops both units first. The real one then hunts containerd shims and
# unmounts pod volumes; the simulator has neither, but it records the pid of each process it starts
# (the rke2 process and its etcd) under ${RKE2_DATA_DIR}/sim/pids, so exactly this node's processes
# are killed even when several simulated nodes share one host.

if [ "$(id -u)" -ne 0 ]; then
    echo "$(basename "${0}"): must be run as root" >&2
    exit 1
fi

RKE2_DATA_DIR=${RKE2_DATA_DIR:-/var/lib/rancher/rke2}

# start_time prints field 22 (starttime) of /proc/<pid>/stat; a recycled pid has another one.
start_time() {
    sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

set -x

systemctl stop rke2-server.service || true
systemctl stop rke2-agent.service || true

{ set +x; } 2>/dev/null
# rke2 first, so it does not see its etcd die and start exiting on its own.
for pidfile in "${RKE2_DATA_DIR}"/sim/pids/rke2-*.pid "${RKE2_DATA_DIR}"/sim/pids/*.pid; do
    [ -f "${pidfile}" ] || continue
    read -r pid started < "${pidfile}" || true
    if [ -n "${pid}" ] && [ "$(start_time "${pid}")" = "${started}" ]; then
        echo "+ kill -9 ${pid} # $(basename "${pidfile}" .pid)" >&2
        kill -9 "${pid}" 2>/dev/null || true
    fi
    rm -f "${pidfile}"
done
exit 0
