// The embedded DNS server of a user-defined network, through the real docker
// client and real zones: a container resolves the others on its network by
// name and by alias (getaddrinfo through the zone's /etc/resolv.conf, as any
// program does) and reaches them by name; other names are forwarded to the
// host's resolvers (here a stand-in upstream this test serves, named by
// LXZONE_DNS_UPSTREAMS); a container on another network neither resolves
// them nor gets an answer from this network's server; ANY is refused; a
// flood of queries from a zone leaves the server and the daemon answering.
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerClient } from './support/docker.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';

let upstream: Socket;
let upstreamQueries = 0;

beforeAll(async () => {
  // The stand-in for the host's resolver: outside.example → 192.0.2.77, everything else NXDOMAIN.
  upstream = createSocket('udp4');
  upstream.on('message', (msg, rinfo) => {
    upstreamQueries++;
    const q = dnsPacket.decode(msg);
    const question = q.questions![0]!;
    const known = question.name === 'outside.example' && question.type === 'A';
    const answer = dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.RECURSION_AVAILABLE | (known ? 0 : 3),
      questions: q.questions,
      answers: known ? [{ type: 'A', name: question.name, ttl: 60, class: 'IN', data: '192.0.2.77' }] : [],
    });
    upstream.send(answer, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
  process.env.LXZONE_DNS_UPSTREAMS = `127.0.0.1:${upstream.address().port}`; // the daemon this file starts inherits it
});
afterAll(() => {
  delete process.env.LXZONE_DNS_UPSTREAMS;
  upstream?.close();
});

const env = useLifecycleEnv(51);
const docker = dockerClient(env);
const { ok, run } = docker;

/** Runs a node script in a throw-away container on `net`; its stdout parsed as JSON. */
const inZone = async (net: string, script: string): Promise<Record<string, unknown>> => {
  const r = await run(['run', '--rm', '--network', net, 'host', process.execPath, '-e', script]);
  if (r.code !== 0) throw new Error(`script on ${net} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};
const LOOKUP = `const dns=require('dns');const l=n=>new Promise(r=>dns.lookup(n,{family:4},(e,a)=>r(e?e.code:a)));`;
const resolveAll = (names: string[]) =>
  `${LOOKUP}(async()=>{const o={};for(const n of ${JSON.stringify(names)})o[n]=await l(n);console.log(JSON.stringify(o))})()`;
/** Sends `count` DNS queries (encoded here by dns-packet, ids varied in the zone) to host:53; counts the answers in 3 s and gives the last one's rcode. */
const rawQueries = (host: string, type: string, count: number) => {
  const packet = dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: type as 'A', name: 'web' }] }).toString('base64');
  return `
const d=require('dgram').createSocket('udp4');const q=Buffer.from(${JSON.stringify(packet)},'base64');
const names=['NOERROR','FORMERR','SERVFAIL','NXDOMAIN','NOTIMP','REFUSED'];
let answers=0,rcode=null;d.on('message',m=>{answers++;rcode=names[m[3]&15]});
d.bind(0,()=>{for(let i=0;i<${count};i++){const b=Buffer.from(q);b.writeUInt16BE(i&0xffff,0);d.send(b,53,${JSON.stringify(host)})}});
setTimeout(()=>{console.log(JSON.stringify({answers,rcode}));process.exit(0)},3000);`;
};

describe('the DNS server of a user-defined network', () => {
  it('resolves names and aliases on the network, forwards the rest, answers no other network, survives a flood', async () => {
    await env.ok(['list']); // the daemon, which serves docker.sock and the networks' DNS servers
    await waitFor(() => existsSync(docker.socket), 30_000);
    await ok(['network', 'create', 'app']);
    await ok(['network', 'create', 'other']);
    const gateway = JSON.parse(await ok(['network', 'inspect', 'app']))[0].IPAM.Config[0].Gateway as string;
    await ok(['run', '-d', '--name', 'web', '--network', 'app', '--network-alias', 'www', 'host', 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/etc']);
    const webIp = JSON.parse(await ok(['inspect', 'web']))[0].NetworkSettings.Networks.app.IPAddress as string;

    // By name and alias on the network; other names through the host's resolver; unknown ones fail.
    expect(await inZone('app', resolveAll(['web', 'WWW', 'outside.example', 'nosuch', 'nosuch.example']))).toEqual({
      web: webIp,
      WWW: webIp,
      'outside.example': '192.0.2.77',
      nosuch: 'ENOTFOUND',
      'nosuch.example': 'ENOTFOUND',
    });
    expect(upstreamQueries).toBeGreaterThan(0);
    // Reached by name (busybox httpd may still be starting: polled).
    const get = `require('http').get('http://www:8080/debian_version',{timeout:3000},r=>{let b='';r.on('data',c=>b+=c);r.on('end',()=>console.log(JSON.stringify({body:b})))}).on('error',e=>console.log(JSON.stringify({error:e.message})))`;
    const got = await waitFor(async () => ((await inZone('app', get)).body as string | undefined) ?? '', 60_000, 500);
    expect(got.trim()).toMatch(/^\d/);

    // Another network: its own server does not know "web", and app's server gives it no answer at all.
    expect(await inZone('other', resolveAll(['web', 'www', 'outside.example']))).toEqual({ web: 'ENOTFOUND', www: 'ENOTFOUND', 'outside.example': '192.0.2.77' });
    expect(await inZone('other', rawQueries(gateway, 'A', 3))).toEqual({ answers: 0, rcode: null });
    // The default bridge has no resolver of a user network either.
    expect(await inZone('bridge', rawQueries(gateway, 'A', 3))).toEqual({ answers: 0, rcode: null });

    // ANY (the amplification query) is refused.
    expect(await inZone('app', rawQueries(gateway, 'ANY', 1))).toEqual({ answers: 1, rcode: 'REFUSED' });
    // A flood: answers stop at the source's rate, and the server and the daemon still answer afterwards.
    const flood = await inZone('app', rawQueries(gateway, 'A', 5000));
    expect(flood.answers as number).toBeGreaterThan(0);
    expect(flood.answers as number).toBeLessThan(5000);
    expect((await inZone('app', resolveAll(['web']))).web).toBe(webIp);
    expect(await ok(['ps', '--format', '{{.Names}}'])).toBe('web');

    // Gone with the network: after rm the gateway address and its server are no more.
    await ok(['rm', '-f', 'web']);
    await ok(['network', 'rm', 'app', 'other']);
  });
});
