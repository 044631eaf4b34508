// lxzone-runc from source, for tests (the installed entry is bin/lxzone-runc.js -> dist/).
import { main } from '../../src/oci/cli.js';

await main(process.argv);
process.exit(process.exitCode ?? 0);
