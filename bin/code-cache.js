// Loads one CommonJS bundle as require() would, but compiled with V8's code
// cache kept beside it (FILE.v8cache): the bytecode of every function the
// last call compiled, so the next call skips parsing and compiling them.
//
// The cache is code this process will run, so it is trusted only as far as
// the bundle is: it is read only when owned by this user or root and writable
// by no one else, and written (after a call whose cache was missing or
// rejected, at exit, renamed into place) only into a directory owned by this
// user that no one else may write. V8 rejects a cache made for other source
// or another V8 (cachedDataRejected); it is then rewritten.
'use strict';
const { closeSync, fstatSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } = require('node:fs');
const { createRequire, Module } = require('node:module');
const { dirname } = require('node:path');
const { debuglog } = require('node:util');
const { Script } = require('node:vm');

// NODE_DEBUG=module names what was loaded, as Node's own loader does.
const debug = debuglog('module');
const euid = process.geteuid?.() ?? -1;
const trusted = (st) => (st.uid === euid || st.uid === 0) && (st.mode & 0o022) === 0;

function readCache(path) {
  let fd;
  try {
    fd = openSync(path, 'r');
    return trusted(fstatSync(fd)) ? readFileSync(fd) : undefined;
  } catch {
    return undefined; // no cache yet (or unreadable): compile from source
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function writeCache(script, path) {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const dir = statSync(dirname(path));
    if (dir.uid !== euid || (dir.mode & 0o022) !== 0) return;
    writeFileSync(tmp, script.createCachedData(), { mode: 0o644, flag: 'wx' });
    renameSync(tmp, path);
  } catch {
    // A cache is an optimisation: a read-only install or a full disk costs only speed.
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was written
    }
  }
}

// `file`: an absolute path.
function loadCommonJs(file) {
  const cachePath = `${file}.v8cache`;
  const cachedData = readCache(cachePath);
  const script = new Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
  const fresh = cachedData === undefined || script.cachedDataRejected === true;
  debug('load %j with code cache %s', file, fresh ? 'to be written' : 'used');
  // At exit the functions this call ran are compiled: the cache holds them all.
  if (fresh) process.once('exit', () => writeCache(script, cachePath));
  const module = { exports: {}, filename: file, id: file, loaded: false };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  module.loaded = true;
  return module.exports;
}

module.exports = { loadCommonJs };
