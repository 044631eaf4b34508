// Why lxzone-runc fails a case of the OCI runtime-tools validation suite:
// each pattern matches case ids (`PROGRAM: description`), and its text goes
// beside the suite's own error in docs/parts/oci-runtime.md's generated list
// (test/85.oci.validation.test.ts). A failing case no pattern explains is
// listed as unexplained, and the run says so. Written from the suite's
// source (../shared/oci-runtime-tools/validation) and its errors.
export const FAILURE_REASONS: [RegExp, string][] = [
  [/: expected (bounding|effective|inheritable|permitted|ambient) capability CAP_\w+ set$/,
    "not in a zone's capability set: a zone's processes hold at most lxzone's zone set, in the zone's user namespace (CAP_MKNOD is in runc's default config; a zone makes no device nodes); noted in the log"],
  [/: has expected noNewPrivileges$/, 'lxzone always sets no_new_privs; the config asks false (noted in the log)'],
  [/^mounts: mounts\[\d+\] \(\/tmp\/test-\w+\) found in order$/, "every zone's /tmp is a tmpfs of its own, mounted before its /proc: a mount under /tmp is listed in /tmp's part of the mount table, before /proc, where the suite wants it after the config's earlier mounts (under runc /tmp is the rootfs's directory)"],
  [/^hostname: check hostname /, "runtimetest's own checks in that container fail for the reasons of `default`'s cases (capabilities, noNewPrivileges); the hostname is right (`hostname is set correctly` passes)"],
  [/^delete: attempting to `delete` a container that is not `stopped`/, 'delete of a created container deletes it, as runc does and containerd expects; the suite wants an error'],
  [/^(prestart|hooks): /, "the suite (0.9.0) wants prestart hooks run at `start`; runtime-spec 1.1 and runc run them in `create`, as lxzone-runc does"],
  [/^hooks: \(program\)$/, 'also, the suite compares the hooks\' output with `post-start1` while its hooks write `post-start1 called`: no runtime can pass it'],
  [/^pidfile: /, "the suite kills its container after `true` has exited; lxzone-runc answers runc's `container not running`, which containerd's shim relies on"],
  [/^config_updates_without_affect: /, "refused: the suite's config asks rootfsPropagation `shared` (a zone's mounts never propagate to or from the host), so its create fails before any update"],
  [/^linux_cgroups_(relative_)?(blkio|cpus|hugetlb|network)[:]/, "refused: lxzone caps memory, swap, pids and cpu shares/quota; blkio, cpuset, hugetlb and net_cls/net_prio are not applied, and a limit not applied is refused rather than ignored"],
  [/^linux_cgroups_(relative_)?devices: get devices data$/, "lxzone writes no devices-cgroup rules: the rules are checked against the zone's fixed /dev (src/oci/devices.ts), which holds no host device"],
  [/^linux_cgroups_memory: memory (reservation|kernel|kernelTCP|swappiness|oom) is set correctly/, 'lxzone sets the memory limit and swap only; reservation, kernel, kernelTCP, swappiness and disableOOMKiller are noted, not applied'],
  [/^linux_cgroups_relative_(memory|pids): get \w+ cgroup data$/, "the suite's own lookup of a relative cgroupsPath fails on this host's hybrid layout before it reads anything (its message: `cgroup subsystem ... is not mounted as expected`); the absolute-path programs read the same data and pass"],
  [/^process_rlimits: has expected soft RLIMIT_NOFILE$/, "runtimetest is a Go 1.19 program, and Go's os package raises its own soft RLIMIT_NOFILE to the hard limit at startup: it reads 4000 (the hard limit) where lxzone-runc set 3000; any runtime fails it with this build"],
  [/^start: exit status 1$/, "the suite's last `create` has no `process` and is refused (`config.json process: missing`), as runc refuses a config without one (its `process property must not be empty`); the suite then fails the case with that exit status"],
  [/^linux_devices: /, "refused: /dev/test1 (c 10:666), a block device and a fifo are not a zone's own devices; no host device node is bound into a zone"],
  [/^linux_mount_label: /, 'refused: SELinux mount labels are not supported'],
  [/^linux_process_apparmor_profile: /, 'refused: AppArmor profiles are not supported'],
  [/^linux_readonly_paths: /, "the paths are made read-only (runtimetest's read-only checks pass in the container); runtimetest there fails only its capability (CAP_MKNOD) and noNewPrivileges checks, for the reasons of `default`'s cases"],
  [/^linux_masked_paths: /, "the masks are made (runtimetest's mask checks pass in the container); runtimetest there fails only its capability (CAP_MKNOD) and noNewPrivileges checks, for the reasons of `default`'s cases"],
  [/^linux_ns_itype: inherit namespace \w+ without type$/, "lxzone gives every zone its own namespaces, listed or not (noted); the suite wants an unlisted one to be the runtime's"],
  [/^linux_ns_nopath: /, "lxzone gives every zone its own namespaces; the suite's check of the runtime's own fails"],
  [/^linux_ns_path: set (mnt|pid) namespace by path$/, "refused: a zone's mount tree and pid namespace (with its init) are its own"],
  [/^linux_ns_path: set uts namespace by path$/, 'refused: the case sets a hostname with a joined UTS namespace (as runc refuses)'],
  [/^linux_rootfs_propagation: /, "a zone's root is private to it (its mounts never propagate to or from the host); shared is refused, slave is not applied as the suite checks"],
  [/^linux_uid_mappings: /, "refused: lxzone maps a zone's ids onto a host range it was delegated (one 65536-id range, uids and gids alike); the suite's 0:1000:2000 / 0:1000:3000 are not such a range"],
];

export function failureReason(id: string): string | undefined {
  const hits = FAILURE_REASONS.filter(([re]) => re.test(id)).map(([, why]) => why);
  return hits.length ? hits.join('; ') : undefined;
}
