// Helpers of the docker network tests (89.docker.network.multi*): what the
// host shows (links, nftables tables) and what a container sees, read through
// the real docker client.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { vethNames } from '../../src/zone/network/addressing.js';
import type { DockerClient as Docker } from './docker.js';
export type Endpoint = { IPAddress: string; GlobalIPv6Address: string; Aliases: string[] | null };

export const nftTables = () => execFileSync('nft', ['list', 'tables']).toString();
export const links = () => execFileSync('ip', ['-o', 'link', 'show']).toString();

/** From inside a container (node of the host's root; one exec, as each costs seconds on a loaded host): its
 *  interfaces with an address, and an HTTP GET of each URL at once: the body, or null when it cannot resolve or connect. */
const PROBE = `const urls=JSON.parse(process.argv[1]);Promise.all(urls.map(u=>new Promise(res=>{require('http').get(u,{timeout:3000},r=>{let b='';r.on('data',c=>b+=c);r.on('end',()=>res(b))}).on('timeout',function(){this.destroy();res(null)}).on('error',()=>res(null))}))).then(got=>console.log(JSON.stringify({ifs:Object.keys(require('os').networkInterfaces()).sort(),got})))`;

export function netHelpers(docker: Docker) {
  const { ok } = docker;
  const bridgeOf = async (net: string) => JSON.parse(await ok(['network', 'inspect', net]))[0].Options['com.docker.network.bridge.name'] as string;
  return {
    netsOf: async (c: string) => JSON.parse(await ok(['inspect', c]))[0].NetworkSettings.Networks as Record<string, Endpoint>,
    bridgeOf,
    /** `docker network create NAME` for each; their bridges, in that order. */
    createNets: async (...names: string[]): Promise<string[]> => {
      for (const n of names) await ok(['network', 'create', n]);
      const bridges: string[] = [];
      for (const n of names) bridges.push(await bridgeOf(n));
      return bridges;
    },
    /** A network's gateway addresses, IPv4 and IPv6 (its DNS server's). */
    gateways: async (net: string): Promise<{ v4: string; v6: string }> => {
      const cfg = JSON.parse(await ok(['network', 'inspect', net]))[0].IPAM.Config as { Subnet: string; Gateway: string }[];
      return { v4: cfg.find((c) => !c.Subnet.includes(':'))!.Gateway, v6: cfg.find((c) => c.Subnet.includes(':'))!.Gateway };
    },
    /** The Docker names `network inspect` lists on the network. */
    namesOn: async (net: string) => Object.values(JSON.parse(await ok(['network', 'inspect', net]))[0].Containers).map((c) => (c as { Name: string }).Name).sort(),
    probe: async (c: string, ...urls: string[]): Promise<{ ifs: string[]; got: (string | null)[] }> => JSON.parse(await ok(['exec', c, process.execPath, '-e', PROBE, JSON.stringify(urls)])),
    /** busybox httpd serving the host's /etc (the image "host" is the host's root, read-only). */
    serve: ['host', 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/etc'],
    debian: execFileSync('cat', ['/etc/debian_version']).toString(),
    path: '/debian_version',
  };
}

/** The nameservers a resolv.conf names. */
export const nameservers = (conf: string) => [...conf.matchAll(/^nameserver\s+(\S+)/gm)].map((m) => m[1]);

/** What a container off user-defined networks names, worked out here from the host's file as dockerd does. */
export const hostServers = (() => {
  const text = existsSync('/etc/resolv.conf') ? readFileSync('/etc/resolv.conf', 'utf8') : '';
  const kept = [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!).filter((s) => !s.startsWith('127.') && !s.includes(':'));
  return kept.length ? kept : ['8.8.8.8', '8.8.4.4'];
})();

/** From inside a container (one exec): its interfaces with an address, its resolv.conf's servers, a name looked up through
 *  resolv.conf (getaddrinfo, as any program), and an HTTP GET of a URL (the body, or null). */
const LOOK = `const [name,url]=process.argv.slice(1);const fs=require('fs');Promise.all([name?require('dns').promises.lookup(name,{family:4}).then(a=>a.address,e=>e.code):null,url?new Promise(res=>{require('http').get(url,{timeout:3000},r=>{let b='';r.on('data',c=>b+=c);r.on('end',()=>res(b))}).on('timeout',function(){this.destroy();res(null)}).on('error',()=>res(null))}):null]).then(([addr,got])=>console.log(JSON.stringify({ifs:Object.keys(require('os').networkInterfaces()).sort(),conf:fs.readFileSync('/etc/resolv.conf','utf8'),addr,got})))`;

export function lookFrom(docker: Docker) {
  return async (c: string, name = '', url = '') => {
    const r = JSON.parse(await docker.ok(['exec', c, process.execPath, '-e', LOOK, name, url])) as { ifs: string[]; conf: string; addr: string | null; got: string | null };
    return { ifs: r.ifs, servers: nameservers(r.conf), addr: r.addr, got: r.got };
  };
}

/** After `network rm`: no bridge left, no nftables table of it, and none of `containers`' veths on it. */
export function expectBridgesGone(bridges: string[], containers: string[] = []): void {
  for (const br of bridges) {
    expect(links()).not.toContain(`${br}:`);
    expect(nftTables()).not.toMatch(new RegExp(`lxzone_(host_)?${br}\\b`));
    for (const c of containers) expect(links()).not.toContain(vethNames(br, c).host);
  }
}

/** No user-defined network's leases or record left in the installation's state. */
export function expectNoNetworkRecords(stateDir: string): void {
  const netDir = join(stateDir, 'network');
  expect(readdirSync(netDir).filter((f) => f.includes('lxzn'))).toEqual([]);
  expect(readdirSync(join(netDir, 'nets')).filter((f) => !f.endsWith('.lock'))).toEqual([]);
}
