// Helpers of the docker network tests (89.docker.network.multi*): what the
// host shows (links, nftables tables) and what a container sees, read through
// the real docker client.
import { execFileSync } from 'node:child_process';
import type { dockerClient } from './docker.js';

type Docker = ReturnType<typeof dockerClient>;
export type Endpoint = { IPAddress: string; GlobalIPv6Address: string; Aliases: string[] | null };

export const nftTables = () => execFileSync('nft', ['list', 'tables']).toString();
export const links = () => execFileSync('ip', ['-o', 'link', 'show']).toString();

/** From inside a container (node of the host's root; one exec, as each costs seconds on a loaded host): its
 *  interfaces with an address, and an HTTP GET of each URL at once: the body, or null when it cannot resolve or connect. */
const PROBE = `const urls=JSON.parse(process.argv[1]);Promise.all(urls.map(u=>new Promise(res=>{require('http').get(u,{timeout:3000},r=>{let b='';r.on('data',c=>b+=c);r.on('end',()=>res(b))}).on('timeout',function(){this.destroy();res(null)}).on('error',()=>res(null))}))).then(got=>console.log(JSON.stringify({ifs:Object.keys(require('os').networkInterfaces()).sort(),got})))`;

export function netHelpers(docker: Docker) {
  const { ok } = docker;
  return {
    netsOf: async (c: string) => JSON.parse(await ok(['inspect', c]))[0].NetworkSettings.Networks as Record<string, Endpoint>,
    bridgeOf: async (net: string) => JSON.parse(await ok(['network', 'inspect', net]))[0].Options['com.docker.network.bridge.name'] as string,
    /** The Docker names `network inspect` lists on the network. */
    namesOn: async (net: string) => Object.values(JSON.parse(await ok(['network', 'inspect', net]))[0].Containers).map((c) => (c as { Name: string }).Name).sort(),
    probe: async (c: string, ...urls: string[]): Promise<{ ifs: string[]; got: (string | null)[] }> => JSON.parse(await ok(['exec', c, process.execPath, '-e', PROBE, JSON.stringify(urls)])),
    /** busybox httpd serving the host's /etc (the image "host" is the host's root, read-only). */
    serve: ['host', 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/etc'],
    debian: execFileSync('cat', ['/etc/debian_version']).toString(),
    path: '/debian_version',
  };
}
