// `lxzone daemon`: run the daemon in the foreground (for a service manager;
// the CLI starts one on demand otherwise). `lxzone daemon stop [--halt-zones]`
// stops a running one; its zones keep running for the next daemon unless
// --halt-zones.
import type { Command } from 'commander';
import { parsePortalAddress } from '../daemon/portal/server.js';
import { portalTlsOptions } from '../daemon/portal/tls.js';
import { dockerTlsOptions } from '../daemon/docker/tls.js';
import { runDaemon } from '../daemon/server.js';
import { LxzoneError } from '../errors.js';
import { stopDaemon } from '../zone/lifecycle/api.js';

export function register(program: Command): void {
  const d = program
    .command('daemon')
    .description('run the lxzone daemon in the foreground (it holds booted zones)')
    .option('--portal <[addr:]port>', 'serve the web portal there (loopback unless an address is given); its login token is printed once')
    .option('--portal-tlscacert <file>', 'serve the portal over HTTPS only: a client certificate signed by this CA is required and logs its holder in, no token asked (with --portal-tlscert, --portal-tlskey)')
    .option('--portal-tlscert <file>', "the portal's HTTPS certificate (with --portal-tlscacert)")
    .option('--portal-tlskey <file>', "the key of --portal-tlscert")
    .option('--docker-tls <host:port>', 'serve the Docker API on TCP too, mutual TLS only (needs --tlscacert, --tlscert, --tlskey)')
    .option('--tlscacert <file>', 'CA that signs the certificates of clients allowed in (--docker-tls)')
    .option('--tlscert <file>', "the server's certificate (--docker-tls)")
    .option('--tlskey <file>', "the server's key (--docker-tls)")
    .action(async (f: { portal?: string; portalTlscacert?: string; portalTlscert?: string; portalTlskey?: string; dockerTls?: string; tlscacert?: string; tlscert?: string; tlskey?: string }) => {
      if (f.dockerTls === undefined && (f.tlscacert || f.tlscert || f.tlskey)) {
        throw new LxzoneError('--tlscacert, --tlscert and --tlskey go with --docker-tls HOST:PORT', { exitCode: 2, code: 'EINVAL' });
      }
      if (f.portal === undefined && (f.portalTlscacert || f.portalTlscert || f.portalTlskey)) {
        throw new LxzoneError('--portal-tlscacert, --portal-tlscert and --portal-tlskey go with --portal [ADDR:]PORT', { exitCode: 2, code: 'EINVAL' });
      }
      const portalTls = portalTlsOptions(f);
      await runDaemon({
        ...(f.portal !== undefined ? { portal: { ...parsePortalAddress(f.portal), ...(portalTls ? { tls: portalTls } : {}) } } : {}),
        ...(f.dockerTls !== undefined ? { dockerTls: dockerTlsOptions(f.dockerTls, f) } : {}),
      });
    });
  d.command('stop')
    .description('stop the running daemon')
    .option('--halt-zones', 'halt every zone first (otherwise they wait for the next daemon)')
    .action(async (f: { haltZones?: boolean }) => {
      const stopped = await stopDaemon({ haltZones: f.haltZones === true });
      process.stdout.write(stopped ? 'stopped\n' : 'no daemon was running\n');
    });
}
