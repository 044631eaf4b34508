#!/usr/bin/env node
// lxzone as an OCI runtime (runc's command line): the compiled front end lives in dist/oci/.
import('../dist/oci/cli.js')
  .then((m) => m.main(process.argv))
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((err) => {
    process.stderr.write(`lxzone-runc: ${err && err.message ? err.message : String(err)}\n`);
    process.exit(1);
  });
