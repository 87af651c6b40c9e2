# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# shellcheck shell=bash
# vm.sh: boots a real guest under QEMU with rust-vmm's vhost-device-vsock as its hybrid-vsock
# multiplexer, for tests/vm/guest.py (the Python VM tests and benchmarks boot through its vm_start)
# and tools/demo.sh. Sourced. See tests/vm/README.md for what boots and why.
#
# VM_FLAVOUR=minimal (default): the bookworm linux-image-*-cloud-amd64 kernel (its virtio and vsock
# modules), and an initramfs built here from busybox-static, this host's own sshd, ssh and socat
# with their shared libraries (found with ldd), and the ssh-proxy binary under test installed with
# tools/install.sh (binary, man page and ssh_config fragment, used as is inside the guest). The
# guest's init loads the modules and runs `socat VSOCK-LISTEN:22,fork EXEC:"sshd -i",nofork`, so
# every connection to guest vsock port 22 gets its own `sshd -i` on the vsock socket itself.
# VM_FLAVOUR=systemd: the same kernel; a trixie tree (debootstrap, cached) with systemd >= 257,
# openssh-server and systemd-container as a raw ext4 disk, which a busybox initramfs switch_roots
# into; systemd's ssh generator puts sshd on vsock::22.
# VM_FLAVOUR=sid: the same with a Debian sid tree (systemd 262, the per-user machined);
# VM_FLAVOUR=bookworm: with a Debian 12 tree (systemd 252, machined without varlink) and a socket
# unit for sshd on vsock::22 (252 has no ssh generator). Both set VM_SKIP_REASON when their tree
# cannot be built.
# The guest has no network device. Every host-side process (qemu, vhost-device-vsock, the host
# sshd, ssh) runs under no-vsock (a seccomp filter refusing AF_VSOCK): AF_VSOCK only exists in the
# guest.
#
# Downloads are cached in VM_CACHE (default /var/cache/ssh-proxy-vm as root, else
# ${XDG_CACHE_HOME:-~/.cache}/ssh-proxy-vm), one directory per package version:
#   kernel-PACKAGE-VERSION/   the extracted linux-image-*-cloud-amd64 (bookworm, the system's apt)
#   vhost-device-vsock-VERSION/   extracted from Debian sid through a private apt state (apt/),
#                     which never touches the system's apt sources or lists
#   rootfs-trixie-systemd-VERSION/  the systemd flavour's tree (debootstrap --variant=minbase)
#   rootfs-sid-systemd-VERSION/, rootfs-bookworm-systemd-VERSION/  the sid and bookworm trees
#
# Inputs (set before vm_start): VM_SSH_PROXY (the binary under test; required), VM_REPO (the repo
# root, for tools/install.sh), VM_FLAVOUR, VM_CID (guest CID, default 42), VM_MEM (default 512M),
# VM_SMP (default 2), VM_LIFETIME (seconds after which qemu and the multiplexer are killed whatever
# happens, default 900), VM_ACCEL (tcg, or kvm to try it; default tcg: KVM here is PVM and cannot
# run a stock kernel), VM_KEEP=1 (keep $VM_DIR for debugging).
#
# vm_start creates $VM_DIR (below /tmp: socket paths must fit sun_path) holding:
#   mux.sock         the multiplexer's host socket (vsock-mux/... targets this)
#   mux.sock_PORT    what a guest connecting to CID 2 port PORT reaches (guest.py's host_listen)
#   ssh_config       host ssh settings (keys, known_hosts, no ProxyCommand): use with ssh -F
#   client_key       the client key the guest's root and the host sshd accept
#   known_hosts      the guest's (and the host sshd's) host key under HostKeyAlias ssh-proxy-vm
#   console.log      the guest's serial console
#   qmp.sock         QEMU's QMP monitor (stop, cont, set-action; tests/vm/load.py's Load.qmp)
#   no-vsock         the AF_VSOCK-refusing wrapper ($VM_NO_VSOCK)
# and sets VM_DIR VM_MUX VM_KERNEL_RELEASE VM_BOOT_MS VM_ACCEL_USED VM_PIDS (and writes $VM_DIR to
# the file $VM_DIR_NOTIFY when that is set). vm_ssh runs ssh into it with the binary under test.
# vm_stop kills everything by PID (TERM, then KILL) and removes $VM_DIR (guest.py's leftovers
# checks what survived it). A caller traps EXIT to vm_stop and turns INT and TERM into exit, so
# every way out of the caller tears the guest down.
#
# vm_skip_reason prints why QEMU cannot run here (and returns 0), or returns 1 when it can.

# stop_pids, remove_dir and ssh_isolated_options.
# shellcheck source=tools/lib.sh
source "${BASH_SOURCE[0]%/*}/../../tools/lib.sh"

VM_DIR=""
VM_PIDS=()
VM_BOOT_MS=""
VM_ACCEL_USED=""
VM_KERNEL_RELEASE=""
VM_HOST_KEY_ALIAS=ssh-proxy-vm
VM_MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci vsock
  vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport vsock_loopback)

vm_log() { echo "vm: $*" >&2; }

vm_cache_dir() {
  if [[ -n ${VM_CACHE:-} ]]; then
    printf '%s\n' "$VM_CACHE"
  elif [[ $(id -u) == 0 ]]; then
    echo /var/cache/ssh-proxy-vm
  else
    printf '%s\n' "${XDG_CACHE_HOME:-$HOME/.cache}/ssh-proxy-vm"
  fi
}

# vm_skip_reason: why a guest cannot be booted on this machine at all (exit 0 and a reason), or
# exit 1 when QEMU runs.
vm_skip_reason() {
  local qemu
  qemu=$(command -v qemu-system-x86_64) || {
    echo "qemu-system-x86_64 is not installed (Debian package qemu-system-x86)"
    return 0
  }
  local devices
  if ! devices=$("$qemu" -device help 2>&1); then
    echo "qemu-system-x86_64 does not run: ${devices:0:200}"
    return 0
  fi
  if [[ $devices != *vhost-user-vsock-pci* ]]; then
    echo "this qemu-system-x86_64 has no vhost-user-vsock-pci device"
    return 0
  fi
  return 1
}

# vm_apt_private DIR ARGS...: apt-get with a private state in DIR (Debian sid's main, from the same
# mirror host as the system's sources), never the system's sources or lists.
vm_apt_private() {
  local dir=$1
  shift
  apt-get -q -o DPkg::Lock::Timeout=600 -o Dir::Etc::SourceList="$dir/sources.list" \
    -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$dir/lists" \
    -o Dir::State::status=/dev/null -o Dir::Cache="$dir/cache" \
    -o Acquire::Check-Valid-Until=false -o APT::Sandbox::User="$(id -un)" "$@"
}

# vm_mirror: the Debian mirror URI the system's apt uses (deb822 or one-line sources).
vm_mirror() {
  local uri
  # shellcheck disable=SC2016  # apt's own $(VAR) template, not the shell's.
  uri=$(apt-get indextargets --format '$(REPO_URI)' 'Created-By: Packages' 2>/dev/null |
    grep -v -- '-security' | head -n1)
  printf '%s\n' "${uri:-http://deb.debian.org/debian/}"
}

# vm_fetch_vhost: sets VM_VHOST to the vhost-device-vsock binary, fetching it from sid once.
vm_fetch_vhost() {
  local cache dir
  cache=$(vm_cache_dir)
  dir=$(find "$cache" -maxdepth 1 -name 'vhost-device-vsock-*' -type d 2>/dev/null | sort -V | tail -n1)
  if [[ -z $dir || ! -x $dir/usr/bin/vhost-device-vsock ]]; then
    local apt=$cache/apt tmp deb version
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" || return 1
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(vm_mirror) sid main" \
      >"$apt/sources.list"
    vm_log "fetching vhost-device-vsock from Debian sid (private apt state in $apt)"
    vm_apt_private "$apt" update >&2 </dev/null || return 1
    tmp=$(mktemp -d "$cache/.dl.XXXXXX") || return 1
    (cd "$tmp" && vm_apt_private "$apt" download vhost-device-vsock/sid >&2 </dev/null) || {
      rm -rf "$tmp"
      return 1
    }
    deb=$(echo "$tmp"/vhost-device-vsock_*.deb)
    version=$(dpkg-deb -f "$deb" Version) || return 1
    dir=$cache/vhost-device-vsock-$version
    dpkg-deb -x "$deb" "$tmp/x" && rm -rf "$dir" && mv "$tmp/x" "$dir" || return 1
    rm -rf "$tmp"
  fi
  VM_VHOST=$dir/usr/bin/vhost-device-vsock
}

# vm_kernel_package: the bookworm cloud kernel's binary package name (linux-image-6.1.0-N-cloud-amd64),
# from the system's apt lists; runs apt-get update once (as root) when the lists do not know it.
vm_kernel_package() {
  local pkg
  pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n1)
  if [[ -z $pkg && $(id -u) == 0 ]]; then
    vm_log "apt does not know linux-image-cloud-amd64 yet: apt-get update"
    apt-get -q -o DPkg::Lock::Timeout=600 update >&2 </dev/null || return 1
    pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
      sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n1)
  fi
  [[ -n $pkg ]] || return 1
  printf '%s\n' "$pkg"
}

# vm_fetch_kernel: sets VM_KERNEL_DIR (an extracted linux-image-*-cloud-amd64) and
# VM_KERNEL_RELEASE, downloading the package once.
vm_fetch_kernel() {
  local cache pkg version dir
  cache=$(vm_cache_dir)
  mkdir -p "$cache" || return 1
  dir=""
  if pkg=$(vm_kernel_package); then
    version=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
    dir=$cache/kernel-$pkg-$version
    if [[ ! -d $dir/boot ]]; then
      local tmp
      tmp=$(mktemp -d "$cache/.dl.XXXXXX") || return 1
      vm_log "fetching $pkg $version"
      if (cd "$tmp" && apt-get -q -o DPkg::Lock::Timeout=600 -o APT::Sandbox::User="$(id -un)" \
        download "$pkg=$version" >&2 </dev/null); then
        dpkg-deb -x "$tmp"/*.deb "$tmp/x" && rm -rf "$dir" && mv "$tmp/x" "$dir" || dir=""
      else
        dir=""
      fi
      rm -rf "$tmp"
    fi
  fi
  if [[ -z $dir ]]; then
    # Offline, or apt has no kernel for us: the newest cached one, if any.
    dir=$(find "$cache" -maxdepth 1 -name 'kernel-*' -type d 2>/dev/null | sort -V | tail -n1)
    [[ -n $dir ]] || {
      vm_log "cannot get linux-image-cloud-amd64 from apt, and no kernel is cached in $cache"
      return 1
    }
    vm_log "using the cached $(basename "$dir")"
  fi
  VM_KERNEL_DIR=$dir
  VM_KERNEL_RELEASE=$(basename "$(echo "$dir"/lib/modules/*)")
  [[ -f $dir/boot/vmlinuz-$VM_KERNEL_RELEASE ]]
}

# vm_fetch: both downloads, under a lock (test runs may share the cache).
vm_fetch() {
  local cache
  cache=$(vm_cache_dir)
  mkdir -p "$cache" || return 1
  exec {VM_LOCK_FD}>"$cache/lock"
  flock -w 600 "$VM_LOCK_FD" || return 1
  local rc=0
  vm_fetch_kernel && vm_fetch_vhost || rc=1
  # The systemd flavours' trees: trixie (systemd >= 257), sid (the per-user machined), bookworm
  # (systemd 252: machined without varlink).
  local base=systemd,openssh-server,systemd-container,dbus,udev
  if ((rc == 0)); then
    case ${VM_FLAVOUR:-minimal} in
      systemd) vm_fetch_rootfs trixie "$base" || rc=1 ;;
      sid) vm_fetch_rootfs sid "$VM_SID_PACKAGES" || rc=1 ;;
      bookworm) vm_fetch_rootfs bookworm "$base" || rc=1 ;;
    esac
  fi
  flock -u "$VM_LOCK_FD"
  exec {VM_LOCK_FD}>&-
  return "$rc"
}

# vm_no_vsock: builds the AF_VSOCK-refusing wrapper into $VM_DIR (once per VM_DIR).
vm_no_vsock() {
  VM_NO_VSOCK=$VM_DIR/no-vsock
  [[ -x $VM_NO_VSOCK ]] && return 0
  cc -O2 -o "$VM_NO_VSOCK" "${BASH_SOURCE[0]%/*}/no-vsock.c"
}

# vm_copy_bin ROOT FILE...: FILE at the same path below ROOT, with every shared library ldd names.
vm_copy_bin() {
  local root=$1 f lib
  shift
  for f in "$@"; do
    install -D -m 0755 "$f" "$root$f" || return 1
    while read -r lib; do
      [[ -e $root$lib ]] || install -D -m 0755 "$lib" "$root$lib" || return 1
    done < <(ldd "$f" | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i}')
  done
}

# vm_guest_ssh_config: the guest's ssh client settings (after Debian's Include of
# ssh_config.d/*.conf, where tools/install.sh put the fragment). Targets on the host side
# (vsock/2, vsock/host) log in as the host user.
vm_guest_ssh_config() {
  cat <<EOF
Host vsock/2 vsock%2 vsock/host vsock%host
  User $(id -un)
Host *
  User root
  HostKeyAlias $VM_HOST_KEY_ALIAS
  UserKnownHostsFile /etc/ssh/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  IdentityFile /etc/ssh/client_key
  IdentitiesOnly yes
  BatchMode yes
  LogLevel ERROR
  ConnectTimeout 20
EOF
}

# vm_install_guest_files ROOT: ssh-proxy (tools/install.sh: binary, man page, fragment) and the
# keys: the guest's host key, the client key root accepts and uses itself, known_hosts.
vm_install_guest_files() {
  local r=$1
  "$VM_REPO/tools/install.sh" --binary="$VM_SSH_PROXY" --prefix=/usr --destdir="$r" >/dev/null ||
    return 1
  mkdir -p "$r/etc/ssh" && rm -f "$r"/etc/ssh/ssh_host_*_key* || return 1
  install -m 0600 "$VM_DIR/host_key" "$r/etc/ssh/ssh_host_ed25519_key" || return 1
  install -m 0644 "$VM_DIR/host_key.pub" "$r/etc/ssh/ssh_host_ed25519_key.pub" || return 1
  install -m 0600 "$VM_DIR/client_key" "$r/etc/ssh/client_key" || return 1
  install -m 0644 "$VM_DIR/known_hosts" "$r/etc/ssh/known_hosts" || return 1
}

# vm_build_initramfs: $VM_DIR/initrd.cpio. VM_FLAVOUR=minimal: the whole guest (busybox, the
# host's sshd, ssh and socat, ssh-proxy). VM_FLAVOUR=systemd: busybox and the modules only; its
# init mounts /dev/vda and switch_roots to systemd.
vm_build_initramfs() {
  local r=$VM_DIR/root kdir=$VM_KERNEL_DIR/lib/modules/$VM_KERNEL_RELEASE m f
  local modules=("${VM_MODULES[@]}")
  vm_systemd_flavour && modules+=(virtio_blk)
  mkdir -p "$r"/{bin,dev,proc,sys,run,tmp,root,etc/ssh,usr/lib,usr/lib64,usr/bin,usr/sbin,modules} ||
    return 1
  ln -s usr/lib "$r/lib" && ln -s usr/lib64 "$r/lib64" || return 1
  install -m 0755 /bin/busybox "$r/bin/busybox" && ln -s busybox "$r/bin/sh" || return 1
  for m in "${modules[@]}"; do
    f=$(find "$kdir/kernel" -name "$m.ko" | head -n1)
    [[ -n $f ]] || {
      vm_log "module $m.ko is not in $VM_KERNEL_DIR"
      return 1
    }
    install -m 0644 "$f" "$r/modules/$m.ko" || return 1
  done
  local head
  head=$(
    cat <<EOF
#!/bin/sh
export PATH=/bin:/usr/bin:/usr/sbin HOME=/root
/bin/busybox --install -s /bin
mount -t devtmpfs dev /dev
exec </dev/ttyS0 >/dev/ttyS0 2>&1
mount -t proc proc /proc
mount -t sysfs sys /sys
for m in ${modules[*]}; do insmod /modules/\$m.ko || echo "ssh-proxy-vm: insmod \$m failed"; done
EOF
  )
  if vm_systemd_flavour; then
    cat >"$r/init" <<EOF
$head
mkdir -p /newroot
i=0
until mount -t ext4 -o rw /dev/vda /newroot 2>/dev/null; do
  i=\$((i + 1))
  if [ \$i -gt 200 ]; then echo "ssh-proxy-vm: cannot mount /dev/vda"; poweroff -f; fi
  sleep 0.05
done
echo "ssh-proxy-vm: ready: switching to systemd at \$(cut -d' ' -f1 /proc/uptime)"
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /lib/systemd/systemd
EOF
  else
    # OpenSSH >= 9.8 splits sshd into sshd, sshd-session (and sshd-auth): take what exists.
    local extra=() x
    for x in /usr/lib/openssh/sshd-session /usr/lib/openssh/sshd-auth; do
      [[ -x $x ]] && extra+=("$x")
    done
    vm_copy_bin "$r" /usr/sbin/sshd /usr/bin/ssh /usr/bin/socat "${extra[@]}" || return 1
    vm_install_guest_files "$r" || return 1
    install -m 0644 "$VM_DIR/client_key.pub" "$r/etc/ssh/authorized_keys" || return 1
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'sshd:x:100:65534::/run/sshd:/bin/false' \
      >"$r/etc/passwd"
    printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$r/etc/group"
    cat >"$r/etc/ssh/sshd_config" <<'EOF'
HostKey /etc/ssh/ssh_host_ed25519_key
AuthorizedKeysFile /etc/ssh/authorized_keys
StrictModes no
UsePAM no
PidFile none
PermitRootLogin prohibit-password
AuthenticationMethods publickey
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
PrintMotd no
PrintLastLog no
Subsystem sftp internal-sftp
LogLevel ERROR
EOF
    {
      echo "Include /etc/ssh/ssh_config.d/*.conf"
      vm_guest_ssh_config
    } >"$r/etc/ssh/ssh_config"
    # socat forks per connection and execs sshd -i on the vsock socket itself; a backlog of 128
    # (socat's default is 5) keeps a burst of connections from being reset under TCG.
    cat >"$r/init" <<EOF
$head
mount -t tmpfs -o mode=0755 run /run
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/pts /run/sshd
mount -t devpts devpts /dev/pts
hostname ssh-proxy-guest
socat VSOCK-LISTEN:22,fork,reuseaddr,backlog=128 'EXEC:/usr/sbin/sshd -i -f /etc/ssh/sshd_config,nofork' &
echo "ssh-proxy-vm: ready \$(cut -d' ' -f1 /proc/uptime)"
while :; do sleep 3600; done
EOF
  fi
  chmod 0755 "$r/init" || return 1
  (cd "$r" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 >"$VM_DIR/initrd.cpio") ||
    return 1
  rm -rf "$r"
}

# vm_systemd_flavour: true when VM_FLAVOUR boots a debootstrapped tree with systemd as PID 1
# (systemd: trixie; sid: Debian sid; bookworm: Debian 12), which share the initramfs that
# switch_roots and the disk.
vm_systemd_flavour() {
  [[ ${VM_FLAVOUR:-minimal} == systemd || ${VM_FLAVOUR:-minimal} == sid ||
    ${VM_FLAVOUR:-minimal} == bookworm ]]
}

# The sid flavour's packages. sid's openssh-server no longer pulls in openssh-client (the guest
# runs ssh); the per-user machined needs a user bus (dbus-user-session) and user@0 a PAM session
# (libpam-systemd). systemd-nsresourced (for systemd-nspawn --user) loads libbpf1 at run time.
VM_SID_PACKAGES=${VM_SID_PACKAGES:-systemd,systemd-container,openssh-server,openssh-client,dbus,dbus-user-session,libpam-systemd,udev,libbpf1}

# vm_rootfs_complete SUITE DIR PACKAGES: DIR holds systemd and, where it lists its packages
# (ssh-proxy-vm-packages.txt; sid's tree must), every one of PACKAGES (comma-separated).
vm_rootfs_complete() {
  local suite=$1 dir=$2 p
  [[ -x $dir/lib/systemd/systemd ]] || return 1
  if [[ ! -f $dir/ssh-proxy-vm-packages.txt ]]; then
    [[ $suite != sid ]]
    return
  fi
  for p in ${3//,/ }; do
    grep -q "^$p " "$dir/ssh-proxy-vm-packages.txt" || return 1
  done
}

# vm_fetch_rootfs SUITE PACKAGES: sets VM_SYSTEMD_ROOTFS to a Debian SUITE tree (debootstrap
# minbase with PACKAGES), built once into the cache as rootfs-SUITE-systemd-VERSION (systemd's
# version; the newest cached one is used while it is complete, which pins a run to the tree it was
# built from: delete it to follow the suite). The tree holds ssh-proxy-vm-packages.txt, every
# package and version in it. When the tree cannot be had, logs why and returns 1; for the optional
# flavours (sid and bookworm: sid moves) it also sets VM_SKIP_REASON (the caller reports a SKIP
# with it, not a failure), as it does when sid's systemd has no per-user machined (< 258).
vm_fetch_rootfs() {
  local suite=$1 packages=$2 cache dir tmp version why=""
  VM_SKIP_REASON=""
  cache=$(vm_cache_dir)
  dir=$(find "$cache" -maxdepth 1 -name "rootfs-$suite-systemd-*" -type d 2>/dev/null | sort -V |
    tail -n1)
  if [[ -z $dir ]] || ! vm_rootfs_complete "$suite" "$dir" "$packages"; then
    dir=""
    if [[ $(id -u) != 0 ]] || ! command -v debootstrap >/dev/null; then
      why="building the Debian $suite guest's root needs root and debootstrap"
    else
      tmp=$(mktemp -d "$cache/.rootfs.XXXXXX") || return 1
      vm_log "building the guest's root with debootstrap ($suite, minbase; a few minutes)"
      if debootstrap --variant=minbase --include="$packages" "$suite" "$tmp/root" \
        "$(vm_mirror)" >"$tmp/debootstrap.log" 2>&1; then
        # shellcheck disable=SC2016  # dpkg-query's own ${Version} template.
        version=$(dpkg-query --admindir="$tmp/root/var/lib/dpkg" -W -f '${Version}' systemd) ||
          return 1
        # shellcheck disable=SC2016
        dpkg-query --admindir="$tmp/root/var/lib/dpkg" -W -f '${Package} ${Version}\n' \
          >"$tmp/root/ssh-proxy-vm-packages.txt" || return 1
        dir=$cache/rootfs-$suite-systemd-$version
        rm -rf "$dir" && mv "$tmp/root" "$dir" && rm -rf "$tmp" || return 1
      else
        why=$(grep -E '^[EW]:' "$tmp/debootstrap.log" | sort -u | tail -n 2 | tr '\n' ' ')
        local note=""
        [[ $suite == sid ]] && note=" (sid moves; not ssh-proxy's failure)"
        why="debootstrap of Debian $suite failed$note: ${why:-$(tail -n 1 "$tmp/debootstrap.log")}"
        rm -rf "$tmp"
      fi
    fi
  fi
  version=${dir##*/rootfs-"$suite"-systemd-}
  if [[ -z $why && $suite == sid ]] && ! [[ ${version%%[!0-9]*} -ge 258 ]]; then
    why="Debian sid's systemd is $version, which has no per-user machined (258 and later)"
  fi
  if [[ -n $why ]]; then
    vm_log "$why"
    # shellcheck disable=SC2034  # read by vm_start's callers (guest.py).
    [[ $suite == trixie ]] || VM_SKIP_REASON=$why
    return 1
  fi
  VM_SYSTEMD_ROOTFS=$dir
}

# vm_bookworm_sshd_on_vsock ROOT: systemd 252 has no ssh generator (256 brought it): a socket unit
# on vsock::22 with an sshd per connection, as the generator would make.
vm_bookworm_sshd_on_vsock() {
  local r=$1
  printf '%s\n' '[Unit]' 'Description=sshd on AF_VSOCK port 22 (ssh-proxy VM tests)' \
    '[Socket]' 'ListenStream=vsock::22' 'Accept=yes' '[Install]' 'WantedBy=sockets.target' \
    >"$r/etc/systemd/system/sshd-vsock.socket" || return 1
  printf '%s\n' '[Unit]' 'Description=sshd for one AF_VSOCK connection' '[Service]' \
    'ExecStartPre=/bin/mkdir -p -m 0755 /run/sshd' 'ExecStart=-/usr/sbin/sshd -i' \
    'StandardInput=socket' 'StandardError=journal' \
    >"$r/etc/systemd/system/sshd-vsock@.service" || return 1
  mkdir -p "$r/etc/systemd/system/sockets.target.wants" &&
    ln -sf ../sshd-vsock.socket "$r/etc/systemd/system/sockets.target.wants/sshd-vsock.socket"
}

# vm_build_systemd_disk: $VM_DIR/disk.img, a raw ext4 image of the cached trixie tree with
# ssh-proxy and this run's keys. systemd's ssh generator makes sshd listen on vsock::22 (and
# /run/ssh-unix-local/socket) by itself.
vm_build_systemd_disk() {
  local r=$VM_DIR/sysroot
  cp -a "$VM_SYSTEMD_ROOTFS" "$r" || return 1
  vm_install_guest_files "$r" || return 1
  install -d -m 0700 "$r/root/.ssh" || return 1
  install -m 0600 "$VM_DIR/client_key.pub" "$r/root/.ssh/authorized_keys" || return 1
  vm_guest_ssh_config >"$r/etc/ssh/ssh_config.d/90-ssh-proxy-vm.conf" || return 1
  if [[ ${VM_FLAVOUR:-} == bookworm ]]; then
    vm_bookworm_sshd_on_vsock "$r" || return 1
  fi
  echo "ssh-proxy-${VM_FLAVOUR:-systemd}" >"$r/etc/hostname"
  # Newer than /usr: systemd's ConditionNeedsUpdate units (catalog, hwdb, ldconfig) stay idle.
  touch "$r/etc/.updated" "$r/var/.updated"
  # A machine ID of its own, so that no first-boot logic runs.
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$r/etc/machine-id" && echo >>"$r/etc/machine-id"
  mkfs.ext4 -q -F -L root -d "$r" "$VM_DIR/disk.img" 2G >/dev/null || return 1
  rm -rf "$r"
}

# vm_make_keys: host and client keys, known_hosts and the host-side ssh_config in $VM_DIR.
vm_make_keys() {
  local d=$VM_DIR type key
  ssh-keygen -q -N '' -t ed25519 -C ssh-proxy-vm-host -f "$d/host_key" </dev/null || return 1
  ssh-keygen -q -N '' -t ed25519 -C ssh-proxy-vm-client -f "$d/client_key" </dev/null || return 1
  read -r type key _ <"$d/host_key.pub"
  echo "$VM_HOST_KEY_ALIAS $type $key" >"$d/known_hosts"
  # No ProxyCommand here: each caller says which one (an explicit one, or the installed fragment).
  cat >"$d/ssh_config" <<EOF
Host *
  User root
  CheckHostIP no
  HostKeyAlias $VM_HOST_KEY_ALIAS
  UserKnownHostsFile $d/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  UpdateHostKeys no
  IdentityFile $d/client_key
  IdentitiesOnly yes
  IdentityAgent none
  PasswordAuthentication no
  KbdInteractiveAuthentication no
  BatchMode yes
  LogLevel ERROR
  ConnectTimeout 20
$(ssh_isolated_options)
EOF
}

vm_now_ms() { echo $(($(date +%s%N) / 1000000)); }

# vm_spawn NAME CMD...: runs CMD under no-vsock in the background, bounded by VM_LIFETIME, and
# remembers its PID (timeout's, which passes TERM on to CMD).
vm_spawn() {
  local name=$1
  shift
  timeout -k 5 "${VM_LIFETIME:-900}" "$VM_NO_VSOCK" "$@" >"$VM_DIR/$name.out" 2>&1 &
  VM_PIDS+=("$!")
}

# vm_ssh ARGS...: ssh from the host with $VM_DIR/ssh_config and the binary under test as
# ProxyCommand, time-bounded, under no-vsock.
vm_ssh() {
  timeout -k 5 "${VM_SSH_TIMEOUT:-120}" "$VM_NO_VSOCK" ssh -F "$VM_DIR/ssh_config" \
    -o "ProxyCommand=$VM_SSH_PROXY '%n' %p" -o ProxyUseFdpass=yes "$@"
}

# vm_start: fetches (once), builds and boots the minimal guest; returns when the guest's sshd
# answers through the multiplexer. Prints the accelerator and the boot time.
vm_start() {
  [[ -n ${VM_SSH_PROXY:-} && -x $VM_SSH_PROXY ]] || {
    vm_log "VM_SSH_PROXY is not an executable: ${VM_SSH_PROXY:-unset}"
    return 1
  }
  VM_REPO=${VM_REPO:-$(cd "${BASH_SOURCE[0]%/*}/../.." && pwd)}
  vm_fetch || {
    vm_log "could not fetch the guest kernel, vhost-device-vsock or the guest's root"
    return 1
  }
  VM_DIR=$(mktemp -d /tmp/ssh-proxy-vm.XXXXXX) || return 1
  # For a test that kills its caller mid-boot: where to look.
  [[ -z ${VM_DIR_NOTIFY:-} ]] || echo "$VM_DIR" >"$VM_DIR_NOTIFY"
  VM_MUX=$VM_DIR/mux.sock
  if ! vm_no_vsock || ! vm_make_keys || ! vm_build_initramfs; then
    vm_log "could not build the guest"
    return 1
  fi
  local disk_args=() append="console=ttyS0 rdinit=/init panic=-1 quiet loglevel=4" wait_s=60
  if vm_systemd_flavour; then
    vm_build_systemd_disk || {
      vm_log "could not build the systemd guest's disk"
      return 1
    }
    disk_args=(-drive "file=$VM_DIR/disk.img,format=raw,if=virtio")
    append+=" systemd.show_status=false"
    wait_s=300
  fi
  local accel=${VM_ACCEL:-tcg} cid=${VM_CID:-42} mem=${VM_MEM:-512M}
  local accel_args=(-accel "tcg,thread=multi" -cpu max)
  [[ $accel == kvm ]] && accel_args=(-accel kvm -cpu host)
  VM_ACCEL_USED=$accel
  local t0
  t0=$(vm_now_ms)
  vm_spawn vhost "$VM_VHOST" --guest-cid="$cid" --socket="$VM_DIR/vhost.sock" --uds-path="$VM_MUX"
  local i
  for ((i = 0; i < 500; i++)); do
    [[ -S $VM_DIR/vhost.sock ]] && break
    sleep 0.01
  done
  [[ -S $VM_DIR/vhost.sock ]] || {
    vm_log "vhost-device-vsock did not create its socket: $(cat "$VM_DIR/vhost.out")"
    return 1
  }
  vm_spawn qemu qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot \
    "${accel_args[@]}" -smp "${VM_SMP:-2}" -m "$mem" \
    -object "memory-backend-memfd,id=mem,size=$mem,share=on" -machine q35,memory-backend=mem \
    -kernel "$VM_KERNEL_DIR/boot/vmlinuz-$VM_KERNEL_RELEASE" -initrd "$VM_DIR/initrd.cpio" \
    -append "$append" "${disk_args[@]}" -serial "file:$VM_DIR/console.log" -nic none \
    -chardev "socket,id=vu,path=$VM_DIR/vhost.sock" -device vhost-user-vsock-pci,chardev=vu \
    -qmp "unix:$VM_DIR/qmp.sock,server=on,wait=off"
  local qemu_pid=${VM_PIDS[-1]}
  # The console says when init started the listener; then sshd must answer through the mux.
  for ((i = 0; i < 1800; i++)); do
    grep -q '^ssh-proxy-vm: ready' "$VM_DIR/console.log" 2>/dev/null && break
    if ! kill -0 "$qemu_pid" 2>/dev/null; then
      vm_log "qemu exited during boot: $(cat "$VM_DIR/qemu.out")"
      vm_log "console: $(tail -n 20 "$VM_DIR/console.log" 2>/dev/null)"
      return 1
    fi
    sleep 0.05
  done
  local deadline=$(($(vm_now_ms) + wait_s * 1000))
  while (($(vm_now_ms) < deadline)); do
    if VM_SSH_TIMEOUT=30 vm_ssh "vsock-mux$VM_MUX" true </dev/null 2>/dev/null; then
      VM_BOOT_MS=$(($(vm_now_ms) - t0))
      vm_log "${VM_FLAVOUR:-minimal} guest $VM_KERNEL_RELEASE (CID $cid, accelerator $VM_ACCEL_USED) answered ssh" \
        "$((VM_BOOT_MS / 1000)).$(printf '%03d' $((VM_BOOT_MS % 1000))) s after qemu started"
      return 0
    fi
    kill -0 "$qemu_pid" 2>/dev/null || break
    sleep 0.25
  done
  vm_log "the guest's sshd did not answer through $VM_MUX"
  vm_log "console: $(tail -n 20 "$VM_DIR/console.log" 2>/dev/null)"
  return 1
}

# vm_stop: stops everything vm_start started (TERM, KILL after 5 s), removes $VM_DIR.
vm_stop() {
  stop_pids 5 "${VM_PIDS[@]}"
  VM_PIDS=()
  remove_dir "$VM_DIR" "${VM_KEEP:-0}" vm
  VM_DIR=""
}
