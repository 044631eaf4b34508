// /_ping, /version and /info: what the docker client asks first. The ping's
// Api-Version header is what a client negotiates down from.
import { cpus, hostname, release, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import type { Route } from './router.js';
import { API_MAX, API_MIN, ENGINE_VERSION } from './version.js';
import type { DockerBackend } from './backend.js';

function operatingSystem(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

const arch = () => ({ x64: 'x86_64', arm64: 'aarch64', ia32: 'i386' })[process.arch as string] ?? process.arch;

export function systemRoutes(b: DockerBackend): Route[] {
  const ping = () => ({ status: 200, body: 'OK', headers: { 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache', 'Builder-Version': '' } });
  return [
    { method: 'GET', path: '/_ping', handler: ping, doc: 'health check; its Api-Version header is what clients negotiate from' },
    { method: 'HEAD', path: '/_ping', handler: ping, doc: 'the same, headers only' },
    {
      method: 'GET',
      path: '/version',
      doc: 'engine and API versions (the engine is lxzone)',
      handler: () => ({
        Platform: { Name: 'lxzone' },
        Components: [{ Name: 'Engine', Version: ENGINE_VERSION, Details: { ApiVersion: API_MAX, MinAPIVersion: API_MIN, GitCommit: 'lxzone', GoVersion: `node${process.versions.node}`, BuildTime: '', Experimental: 'false', Os: 'linux', Arch: process.arch === 'x64' ? 'amd64' : process.arch, KernelVersion: release() } }],
        Version: ENGINE_VERSION,
        ApiVersion: API_MAX,
        MinAPIVersion: API_MIN,
        GitCommit: 'lxzone',
        GoVersion: `node${process.versions.node}`,
        Os: 'linux',
        Arch: process.arch === 'x64' ? 'amd64' : process.arch,
        KernelVersion: release(),
        BuildTime: '',
      }),
    },
    {
      method: 'GET',
      path: '/info',
      doc: 'host and container counts; storage driver "lxzone", runtime "lxzone"',
      handler: async () => {
        const counts = await b.counts();
        return {
          ID: b.engineId(),
          Containers: counts.total,
          ContainersRunning: counts.running,
          ContainersPaused: counts.paused,
          ContainersStopped: counts.total - counts.running - counts.paused,
          Images: b.imageCount(),
          Driver: 'lxzone',
          DriverStatus: [],
          Plugins: { Volume: [], Network: ['bridge', 'none'], Authorization: null, Log: ['lxzone'] },
          MemoryLimit: true,
          SwapLimit: true,
          CpuCfsPeriod: true,
          CpuCfsQuota: true,
          CPUShares: true,
          CPUSet: false,
          PidsLimit: true,
          IPv4Forwarding: true,
          Debug: false,
          NFd: 0,
          NGoroutines: 0,
          SystemTime: new Date().toISOString(),
          LoggingDriver: 'lxzone',
          CgroupDriver: 'cgroupfs',
          CgroupVersion: b.cgroupVersion(),
          NEventsListener: 0,
          KernelVersion: release(),
          OperatingSystem: operatingSystem(),
          OSVersion: '',
          OSType: 'linux',
          Architecture: arch(),
          IndexServerAddress: 'https://index.docker.io/v1/',
          RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: [], Mirrors: [] },
          NCPU: cpus().length,
          MemTotal: totalmem(),
          DockerRootDir: b.rootDir(),
          HttpProxy: '',
          HttpsProxy: '',
          NoProxy: '',
          Name: hostname(),
          Labels: [],
          ExperimentalBuild: false,
          ServerVersion: ENGINE_VERSION,
          Runtimes: { lxzone: { path: 'lxzone-shim' } },
          DefaultRuntime: 'lxzone',
          Swarm: { LocalNodeState: 'inactive', ControlAvailable: false, NodeID: '', NodeAddr: '', Error: '', RemoteManagers: null },
          LiveRestoreEnabled: true,
          Isolation: '',
          InitBinary: '',
          ContainerdCommit: { ID: '', Expected: '' },
          RuncCommit: { ID: '', Expected: '' },
          InitCommit: { ID: '', Expected: '' },
          SecurityOptions: ['name=seccomp,profile=lxzone-default', 'name=userns', 'name=cgroupns'],
          Warnings: [],
        };
      },
    },
  ];
}
