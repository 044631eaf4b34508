#!/usr/bin/env bash
# The focused zone tests run inside the Debian 12 guest (stock kernel 6.1,
# systemd 252, cgroup v2, `/` shared), started by lxzone-vmtest.service once
# the guest is up. Each check prints "ok - NAME" or "not ok - NAME: why" on
# the serial console; the counts go to /results/results.txt, which the host
# reads back from the results disk (scripts/vm/run.sh).
set -uo pipefail
export PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
cd /opt/lxzone
LX="/usr/local/bin/node /opt/lxzone/bin/lxzone.js"
passed=0 failed=0
out=/results/results.txt
: >"$out"
log() { echo "lxzone-vm: $*"; echo "$*" >>"$out"; }
ok() { passed=$((passed + 1)); log "ok - $1"; }
fail() { failed=$((failed + 1)); log "not ok - $1: $2"; }
# check NAME EXPECTED-REGEX CMD...: the command's stdout+stderr must match; with an
# empty regex (a step whose output says nothing) the command must exit 0.
check() {
  local name="$1" want="$2"; shift 2
  local got rc
  got="$("$@" 2>&1)"; rc=$?
  if { [ -n "$want" ] && grep -Eq -- "$want" <<<"$got"; } || { [ -z "$want" ] && [ "$rc" = 0 ]; }; then ok "$name"; else fail "$name" "exit $rc, output: $(head -c 600 <<<"$got" | tr '\n' '|')"; fi
}
# known NAME REASON EXPECTED-REGEX CMD...: a check that fails for a reason not yet
# found. Its failure is printed with the reason and not counted; a pass is
# counted and says the mark should go.
known() {
  local name="$1" why="$2" want="$3"; shift 3
  local got rc
  got="$("$@" 2>&1)"; rc=$?
  if grep -Eq -- "$want" <<<"$got"; then ok "$name (marked known-failing: remove the mark)"; else
    log "not ok - $name # known failure, not counted: $why; exit $rc, output: $(head -c 900 <<<"$got" | tr '\n' '|')"; fi
}
cg=/sys/fs/cgroup

log "kernel $(uname -r), $(systemctl --version | head -n 1), $(stat -fc %T $cg), / propagation $(findmnt -no PROPAGATION /)"

# --- one-shot zones, from a shell inside a service unit -------------------------
# This script is lxzone-vmtest.service's shell: the one-shot checks below run from a service's
# cgroup (a v2 leaf with processes, which can never enable controllers for children).
check "service unit: these checks run in the service's own cgroup" '^0::/system.slice/lxzone-vmtest.service$' grep '^0::' /proc/self/cgroup
check "run: a shell in a zone" '^hello from lxzone$' $LX run --no-tty --hostname lxzone -- /bin/sh -c 'echo hello from $(hostname)'
check "run: --kernel-version (an emulated, notified syscall)" '^5\.15\.0$' $LX run --no-tty --kernel-version 5.15.0 -- /bin/uname -r
check "notification mode: 6.1 has no SYNC_WAKE_UP, reported as plain" '"mode": "plain"' $LX syscalls --json
check "notification mode: in the table header" 'notification mode: plain' $LX syscalls --disposition emulate
check "run caps v2: memory cap shown by LXCFS" 'MemTotal: +204800 kB' $LX run --no-tty -m 200m -- /bin/grep MemTotal /proc/meminfo
# The zone's cgroup namespace hides the path inside; read it from the host while the zone runs.
check "run caps v2: the running zone's leaf of /lxzone has memory.max and pids.max" '^134217728 40$' bash -c "
  $LX run --no-tty -m 128m --pids-limit 40 -- /bin/sleep 20 & d=
  for i in \$(seq 120); do d=\$(ls -d $cg/lxzone/run-* 2>/dev/null | head -n 1); [ -n \"\$d\" ] && [ -n \"\$(cat \$d/cgroup.procs 2>/dev/null)\" ] && break; sleep 0.5; done
  echo \$(cat \$d/memory.max) \$(cat \$d/pids.max); wait"
check "run caps v2: a memory hog is OOM-killed (exit 137)" '^rc=137$' bash -c "
  $LX run --no-tty -m 64m -- /usr/local/bin/node -e 'const a=[];for(;;)a.push(Buffer.alloc(8<<20).fill(1))' >/dev/null 2>&1; echo rc=\$?"
check "run caps v2: forks beyond --pids-limit fail" '^rc=[1-9]' bash -c "
  $LX run --no-tty --pids-limit 6 -- /bin/sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 3 & done; wait; echo survived' 2>/dev/null | grep -q survived; echo rc=\$?"
check "run: nothing left in /lxzone after one-shot zones" '^none$' bash -c "ls -d $cg/lxzone/run-* 2>/dev/null || echo none"

# --- zones from a login session (pam_systemd: a session scope under user.slice) --
# su -l goes through PAM's common-session, where pam_systemd puts the shell into a new
# session-N.scope, as an ssh or console login would. No daemon runs yet: the lifecycle
# commands start one on demand from the session, which moves itself into /lxzone/_daemon.
insession() { su -l root -c "PATH=$PATH; $*"; }
# A zone's caps are enforced when the kernel acted on them: memory.events' oom_kill and
# pids.events' max count the OOM kills and refused forks in the zone's own cgroup.
hog="/usr/local/bin/node -e 'const a=[];for(;;)a.push(Buffer.alloc(8<<20).fill(1))'"
forks="/bin/sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25; do /bin/sleep 3 & done; wait'"
events() { echo "oom_kill $(awk '$1=="oom_kill"{print $2}' $cg/lxzone/$1/memory.events) pids_max $(awk '$1=="max"{print $2}' $cg/lxzone/$1/pids.events)"; }
check "login session: the shell is in a session scope" '^0::/user\.slice/user-0\.slice/session-[^/]+\.scope$' insession "grep '^0::' /proc/self/cgroup"
check "login session: run -m 64m, LXCFS shows the cap" 'MemTotal: +65536 kB' insession "$LX run --no-tty -m 64m -- /bin/grep MemTotal /proc/meminfo"
check "login session: run -m 64m, a memory hog is OOM-killed (exit 137)" '^rc=137$' insession "$LX run --no-tty -m 64m -- $hog >/dev/null 2>&1; echo rc=\$?"
check "login session: boot a zone with caps (the daemon started on demand)" '' insession "$LX create capped --memory 64m --pids-limit 12 -- /bin/sleep infinity && $LX boot capped"
leaf_procs() { for p in $(cat $cg/lxzone/_daemon/cgroup.procs); do tr '\0' ' ' </proc/$p/cmdline; echo; done; }
check "login session: the on-demand daemon moved into /lxzone/_daemon" 'node .*daemon' leaf_procs
check "login session: the capped zone's cgroup has its caps" '^67108864 12$' bash -c "echo \$(cat $cg/lxzone/capped/memory.max) \$(cat $cg/lxzone/capped/pids.max)"
capped_enforced() {
  insession "$LX exec capped -- $hog" >/dev/null 2>&1; local rc=$?
  insession "$LX exec capped -- $forks" >/dev/null 2>&1
  echo "rc=$rc $(events capped)"
}
check "login session: caps enforced: a hog exec'd in the zone is OOM-killed, forks past 12 refused" '^rc=[1-9][0-9]* oom_kill [1-9][0-9]* pids_max [1-9][0-9]*$' capped_enforced
check "login session: boot a zone without caps" '^running max max$' insession "$LX create plain -- /bin/sleep infinity && $LX boot plain && echo \$($LX list --json | /usr/local/bin/node -e \"let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).find(z=>z.name==='plain')?.state))\") \$(cat $cg/lxzone/plain/memory.max) \$(cat $cg/lxzone/plain/pids.max)"
check "login session: exec in the uncapped zone" '^plain ok$' insession "$LX exec plain -- /bin/sh -c 'echo \$(hostname) ok'"
check "login session: halt and destroy both zones" '' insession "$LX halt capped && $LX halt plain && $LX destroy capped && $LX destroy plain"
# Whatever failed above: no zone and no daemon of this section may outlive it (the unit's daemon
# below would find this one's lock and fail, over and over).
insession "$LX halt capped; $LX halt plain; $LX destroy capped; $LX destroy plain" >/dev/null 2>&1
check "login session: the on-demand daemon stops" '^stopped$' insession "$LX daemon stop"
# The daemon leaves its leaf at a clean stop and removes it, empty (src/zone/cgroups/daemon-leaf.ts).
check "login session: nothing left in /lxzone, not even the daemon's leaf" '^none$' bash -c "cd $cg/lxzone && d=\$(ls -d */ 2>/dev/null | tr -d /); echo \${d:-none}"

# --- the notified-call bench on 6.1's plain notification ----------------------
# bench/run.ts's notified section, quick (one run, small batches: TCG is slow and only the mode and
# the order of magnitude matter here); its JSON gives the mode the machine reported and the figures.
bench_notified() {
  local json=/tmp/bench-notified.json rc attempt
  # A second attempt when the first wrote no JSON: one CI run (of many) saw the bench end
  # with neither output nor a line on stderr; its exit status and stderr are logged here
  # so that the cause can be found if it happens again.
  for attempt in 1 2; do
    timeout 900 /usr/local/bin/node node_modules/tsx/dist/cli.mjs bench/run.ts --sections notified --quick --batches 1 --notify-calls 100 --no-docs --json --out /tmp/bench-results \
      >"$json" 2>/tmp/bench-notified.err
    rc=$?
    [ -s "$json" ] && break
    echo "attempt $attempt wrote no JSON: exit $rc, stderr: $(tail -n 5 /tmp/bench-notified.err | tr '\n' '|'), memory: $(grep -E 'MemAvailable' /proc/meminfo | tr -s ' ')"
  done
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const s = r.sections.notified, m = (n, v) => s.rows.find((x) => x.name === n && x.variant === v)?.median;
    const r0 = (v) => (v == null ? v : Math.round(v));
    const z = r0(m("uname round trip", "lxzone")), n = r0(m("uname round trip", "native")), p = r0(m("context switch round trip", "pipe, one CPU"));
    console.log(`section ${s.status}, mode ${r.machine.notificationMode}: notified uname ${z} ns/call (native ${n} ns, same-CPU pipe round trip ${p} ns)`);
    for (const c of s.checks) console.log(`bench target: ${c.target}: ${c.value == null ? "-" : c.value.toFixed(1)} ${c.unit} (${c.met === null ? "undecided" : c.met ? "met" : "not met"})`);
  ' "$json" 2>&1 || tail -n 5 /tmp/bench-notified.err
}
bench_out="$(bench_notified)"
while IFS= read -r line; do log "bench: $line"; done <<<"$bench_out"
check "bench: the notified-call section ran on 6.1 and measured the plain mode" '^section (ok|partial), mode plain: notified uname [0-9.]+ ns/call' echo "$bench_out"

# --- a daemon zone under the repository's systemd unit -------------------------
sed "s|^ExecStart=.*|ExecStart=$LX daemon|" packaging/systemd/lxzone.service >/etc/systemd/system/lxzone.service
systemctl daemon-reload
check "unit: lxzone.service starts with Delegate=yes" '^active Delegate=yes$' bash -c \
  'systemctl start lxzone && sleep 2; echo $(systemctl is-active lxzone) $(systemctl show -p Delegate lxzone)'
# The daemon moves itself into a leaf of lxzone's own subtree (src/zone/cgroups/daemon-leaf.ts); systemd
# keeps the service active by its main pid although the unit's own cgroup is now empty.
# The daemon moves before it creates its socket: wait for the socket (a CLI call could start a daemon of its own).
daemon_cg() {
  local p
  for _ in $(seq 120); do [ -S /run/lxzone/daemon.sock ] && break; sleep 1; done
  p="$(systemctl show -p MainPID --value lxzone)"; echo "$(systemctl is-active lxzone) $(grep '^0::' /proc/$p/cgroup 2>&1)"
}
check "unit: the daemon (main pid) lives in the leaf /lxzone/_daemon, the service active" '^active 0::/lxzone/_daemon$' daemon_cg
check "daemon zone: create" 'web' $LX create web --memory 128m --pids-limit 50 -- /bin/sleep infinity
check "daemon zone: boot" '' $LX boot web
sleep 2
log "daemon zone after boot: $($LX inspect web 2>&1 | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{try{const z=JSON.parse(s);console.log(z.state, JSON.stringify(z.lastExit ?? null))}catch{console.log(s.slice(0,300))}})")"
inspect() { $LX inspect web | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const z=JSON.parse(s);console.log($1)})"; }
check "daemon zone: running, cgroup v2 at /lxzone/web" '^running 2 /lxzone/web$' inspect '[z.state, z.cgroup?.version, z.cgroup?.path].join(" ")'
check "daemon zone: caps in its cgroup" '^134217728 50$' bash -c "echo \$(cat $cg/lxzone/web/memory.max) \$(cat $cg/lxzone/web/pids.max)"
check "daemon zone: LXCFS view in an exec'd process" 'MemTotal: +131072 kB' $LX exec web /bin/grep MemTotal /proc/meminfo
web_enforced() {
  eval "$LX exec web -- $hog" >/dev/null 2>&1; local rc=$?
  $LX exec web -- /bin/sh -c 'for i in $(seq 60); do /bin/sleep 3 & done; wait' >/dev/null 2>&1
  echo "rc=$rc $(events web)"
}
check "daemon zone: caps enforced: a hog exec'd in it is OOM-killed, forks past 50 refused" '^rc=[1-9][0-9]* oom_kill [1-9][0-9]* pids_max [1-9][0-9]*$' web_enforced
check "daemon zone: boot a zone without caps beside it" '^running max max$' bash -c "$LX create plain -- /bin/sleep infinity >/dev/null && $LX boot plain && echo \$($LX list --json | node -e \"let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).find(z=>z.name==='plain')?.state))\") \$(cat $cg/lxzone/plain/memory.max) \$(cat $cg/lxzone/plain/pids.max)"
check "daemon zone: the uncapped zone halted and destroyed" '^gone$' bash -c "$LX halt plain && $LX destroy plain >/dev/null && (test -e $cg/lxzone/plain && echo kept || echo gone)"
check "daemon zone: inspect shows the notification mode" '^plain$' inspect 'z.notification?.mode'
addr="$(inspect 'z.ipv4 ?? ""' 2>/dev/null | cut -d/ -f1)"
check "daemon zone: network address on eth0 ($addr)" "inet ${addr:-no-address}/" $LX exec web /sbin/ip -4 addr show eth0
# A TCP server in the zone (node, exec'd), reached from the host at the zone's address.
reach() {
  $LX exec web -- /usr/local/bin/node -e 'require("net").createServer((c) => c.end("hello from web\n")).listen(8080, () => console.log("listening"))' >/tmp/reach-server.log 2>&1 &
  local server=$! out=
  for _ in $(seq 60); do
    out="$(node -e 'const s = require("net").connect(8080, process.argv[1]); s.pipe(process.stdout); s.on("error", (e) => { console.log(e.message); process.exit(1); })' "$1" 2>&1)" && break
    sleep 0.5
  done
  # What the next reader needs when it fails: did the server start, where does it listen.
  [[ "$out" == "hello from web" ]] || out="$out; server: $(tr '\n' ' ' </tmp/reach-server.log | head -c 200); zone listens: $($LX exec web -- /bin/ss -ltnH 2>&1 | tr '\n' ' '); host listens on 8080: $(ss -ltnH 'sport = :8080' | tr '\n' ' '); route: $(ip route get "$1" 2>&1 | head -n 1)"
  kill "$server" 2>/dev/null; echo "$out"
}
check "daemon zone: a TCP server in it reachable from the host at its address" '^hello from web$' reach "${addr:-0.0.0.0}"
init1="$(inspect 'z.pid ?? ""')"
# A daemon's death never stops a zone: kill it hard, systemd restarts it (Restart=on-failure), it re-attaches.
pid1="$(systemctl show -p MainPID --value lxzone)"
systemctl kill --kill-whom=main -s SIGKILL lxzone
# Wait for systemd's restart (Restart=on-failure) to answer on the socket: a CLI call before that would
# start a daemon of its own beside the one systemd is starting.
for _ in $(seq 120); do
  pid2="$(systemctl show -p MainPID --value lxzone)"
  [ "$pid2" != 0 ] && [ "$pid2" != "$pid1" ] && [ -S /run/lxzone/daemon.sock ] && $LX list >/dev/null 2>&1 && break
  sleep 1
done
check "re-attach: systemd restarted the killed daemon (main pid $pid1 -> $pid2)" '^active$' systemctl is-active lxzone
check "re-attach: the restarted daemon moved into /lxzone/_daemon too" '^active 0::/lxzone/_daemon$' daemon_cg
check "re-attach: the zone outlived the daemon's SIGKILL (same init ${init1})" "^running ${init1:-none}\$" inspect '[z.state, z.pid].join(" ")'
check "re-attach: exec and an emulated syscall after the restart" '^web-zone 6\.1\.' \
  $LX exec web -- /bin/sh -c 'echo "$(hostname)-zone $(uname -r)"'
check "daemon zone: halt" '' $LX halt web
check "daemon zone: stopped, cgroup removed" '^stopped gone$' bash -c "echo \$($LX list --json | node -e \"let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).find(z=>z.name==='web')?.state))\") \$(test -e $cg/lxzone/web && echo kept || echo gone)"
check "daemon zone: boot again after halt" '' $LX boot web
check "daemon zone: destroy" '' bash -c "$LX halt web; $LX destroy web"
check "unit: stopped, the daemon's leaf is gone with it (no zone was running)" '^inactive gone$' bash -c \
  "systemctl stop lxzone; echo \$(systemctl is-active lxzone) \$(test -e $cg/lxzone/_daemon && echo kept || echo gone)"

# On a failure, what the next reader needs: the daemon's log and the last exit of the test zone.
if [ "$failed" -gt 0 ]; then
  tail -n 40 /var/lib/lxzone/daemon.log 2>/dev/null | sed 's/^/lxzone-vm: daemon.log: /'
  journalctl -u lxzone --no-pager -n 20 2>/dev/null | sed 's/^/lxzone-vm: journal: /'
fi
log "$passed passed, $failed failed"
sync
# SuccessAction= powers off when this unit is done; ask directly too, in case a process
# started by a test (a daemon, a zone) keeps the unit from finishing.
systemctl --no-block poweroff
