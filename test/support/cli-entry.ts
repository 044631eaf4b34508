// The CLI from source, for tests (the installed entry is bin/lxzone.js -> dist/).
import { main } from '../../src/cli/main.js';

await main(process.argv);
