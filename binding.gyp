{
  "target_defaults": {
    "cflags_cc": ["-std=c++20", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fexceptions", "-O2"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
    "defines": ["_GNU_SOURCE"]
  },
  "targets": [
    {
      "target_name": "lxzone",
      "sources": [
        "native/addon/addon.cc",
        "native/addon/js_errors.cc",
        "native/addon/supervisor_wrap.cc",
        "native/addon/unix_sockets.cc",
        "native/addon/terminals.cc",
        "native/addon/files.cc",
        "native/addon/spawn_process.cc",
        "native/common/remove_beneath.cc",
        "native/common/spawn_signals.cc",
        "native/common/unix_socket.cc",
        "native/supervisor/dispatch.cc",
        "native/supervisor/notification.cc",
        "native/supervisor/supervisor.cc",
        "native/supervisor/supervisor_thread.cc",
        "native/supervisor/hot_server.cc",
        "native/supervisor/tracee_memory.cc",
        "native/supervisor/tracee_handles.cc",
        "native/supervisor/zone_proc.cc",
        "native/supervisor/zone_mounts.cc",
        "native/supervisor/fuse_mount.cc",
        "native/supervisor/zone_renice.cc",
        "native/supervisor/handlers/registry.cc",
        "native/supervisor/handlers/unsupported.cc",
        "native/supervisor/handlers/trace.cc",
        "native/supervisor/handlers/uname.cc",
        "native/supervisor/handlers/uts_names.cc",
        "native/supervisor/handlers/sysinfo.cc",
        "native/supervisor/handlers/syslog.cc",
        "native/supervisor/handlers/reboot.cc",
        "native/supervisor/handlers/js.cc",
        "native/supervisor/handlers/personality.cc",
        "native/supervisor/handlers/zone_caps.cc",
        "native/supervisor/handlers/sysfs.cc",
        "native/supervisor/handlers/ustat.cc",
        "native/supervisor/handlers/loop.cc",
        "native/supervisor/handlers/loop_block.cc",
        "native/supervisor/handlers/mount.cc",
        "native/supervisor/handlers/setpriority.cc",
        "native/supervisor/handlers/sockbuf.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"]
    },
    {
      "target_name": "lxzone-shim",
      "type": "executable",
      "sources": [
        "native/shim/main.cc",
        "native/shim/config.cc",
        "native/shim/keeper.cc",
        "native/shim/zone_process.cc",
        "native/shim/zone_namespaces.cc",
        "native/shim/namespace_holder.cc",
        "native/shim/joined_namespaces.cc",
        "native/shim/join_process.cc",
        "native/shim/process_setup.cc",
        "native/shim/session_keyring.cc",
        "native/shim/mounts.cc",
        "native/shim/mounts/mount_calls.cc",
        "native/shim/mounts/tmpfs_options.cc",
        "native/shim/mounts/host_copies.cc",
        "native/shim/mounts/mount_targets.cc",
        "native/shim/mounts/proc_sys.cc",
        "native/shim/mounts/dev.cc",
        "native/shim/mounts/zone_binds.cc",
        "native/shim/mounts/masks.cc",
        "native/shim/mounts/hosts_file.cc",
        "native/shim/mounts/system_zone.cc",
        "native/shim/cow_root.cc",
        "native/shim/id_mapping.cc",
        "native/shim/rootfs_idmap.cc",
        "native/shim/capabilities.cc",
        "native/shim/seccomp_install.cc",
        "native/shim/notify_probe.cc",
        "native/shim/init_reaper.cc",
        "native/shim/process_title.cc",
        "native/shim/time_namespace.cc",
        "native/shim/proc_write.cc",
        "native/shim/tty_relay.cc",
        "native/shim/stdio_relay.cc",
        "native/shim/log_file.cc",
        "native/shim/keeper_server.cc",
        "native/shim/start_gate.cc",
        "native/shim/uts_sysctl_handover.cc",
        "native/shim/uts_sysctl_server.cc",
        "native/shim/uts_sysctl_files.cc",
        "native/shim/uts_fuse_protocol.cc",
        "native/shim/uts_server_sandbox.cc",
        "native/common/unix_socket.cc",
        "native/supervisor/dispatch.cc",
        "native/supervisor/notification.cc",
        "native/supervisor/tracee_memory.cc",
        "native/supervisor/tracee_handles.cc",
        "native/supervisor/zone_proc.cc",
        "native/supervisor/zone_mounts.cc",
        "native/supervisor/fuse_mount.cc",
        "native/supervisor/zone_renice.cc",
        "<!@(ls -1 native/supervisor/handlers/*.cc)"
      ],
      # A static PIE: every zone start execs the shim, and the dynamic
      # loader's work there (libc found, mapped and relocated: ~1 ms of CPU,
      # page faults on the relocated pages) was on every start's path
      # (issue 18). Still position independent (ASLR). -rdynamic, node's
      # default for executables, makes a static PIE that crashes at start.
      # --gc-sections drops what nothing calls (libc's and libstdc++'s unused
      # pieces: less to map, fewer relocated pages); pack-relative-relocs
      # stores the ~4000 relative relocations as DT_RELR (a few hundred bytes
      # read at start instead of ~100 KB of RELA). Both measured (issue 18,
      # bench/performance.template.md, "eighth pass").
      "ldflags": ["-static-pie", "-Wl,--gc-sections", "-Wl,-z,pack-relative-relocs"],
      "ldflags!": ["-rdynamic"]
    },
    {
      "target_name": "lxzone-fusermount",
      "type": "executable",
      "sources": ["native/tools/fusermount_standin.cc"],
      "ldflags": ["-static-libstdc++", "-static-libgcc"]
    },
    {
      "target_name": "lxzone-front",
      "type": "executable",
      "sources": [
        "<!@(ls -1 native/front/*.cc)",
        "native/common/spawn_signals.cc",
        "native/common/unix_socket.cc",
        "native/supervisor/dispatch.cc",
        "native/supervisor/notification.cc",
        "native/supervisor/supervisor.cc",
        "native/supervisor/supervisor_thread.cc",
        "native/supervisor/hot_server.cc",
        "native/supervisor/tracee_memory.cc",
        "native/supervisor/tracee_handles.cc",
        "native/supervisor/zone_proc.cc",
        "native/supervisor/zone_mounts.cc",
        "native/supervisor/fuse_mount.cc",
        "native/supervisor/zone_renice.cc",
        "<!@(ls -1 native/supervisor/handlers/*.cc)"
      ],
      # A static PIE linked as lxzone-shim is (--gc-sections, DT_RELR): no
      # dynamic loader and fewer relocated pages on every `lxzone run`.
      "ldflags": ["-pthread", "-static-pie", "-Wl,--gc-sections", "-Wl,-z,pack-relative-relocs"],
      "ldflags!": ["-rdynamic"]
    },
    {
      "target_name": "lxzone-launch-fill",
      "type": "executable",
      "sources": [
        "native/tools/launch_fill.cc",
        "native/front/description.cc",
        "native/front/fill.cc",
        "native/front/records.cc"
      ]
    },
    {
      "target_name": "lxzone-parse-check",
      "type": "executable",
      "sources": [
        "native/tools/parse_check.cc",
        "native/shim/config.cc",
        "native/supervisor/dispatch.cc"
      ]
    }
  ]
}
