// HTTP/0.9 (hq-interop) client and server over Cloudflare quiche, through
// the npm package @matrixai/quic and its QUICServer/QUICClient API. The
// peer command runs it with node; the environment carries the runner's
// settings (ROLE, TESTCASE, REQUESTS, SSLKEYLOGFILE) and the paths the
// peer command resolved (HQ_QUICHE: the npm install, HQ_WWW, HQ_CERTS,
// HQ_DOWNLOADS, HQ_LISTEN). Exit 0 on success, 1 on failure.
import { createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const env = process.env;
const lib = pathToFileURL(path.join(env.HQ_QUICHE, 'node_modules/@matrixai/quic/dist/index.js'));
const { QUICServer, QUICClient, events, errors } = await import(lib.href);
const loggerLib = pathToFileURL(path.join(env.HQ_QUICHE, 'node_modules/@matrixai/logger/dist/index.js'));
const { default: Logger, LogLevel, StreamHandler } = await import(loggerLib.href);
// HQ_DEBUG=1 turns on the library's debug log (stderr).
const logger = new Logger('quiche', env.HQ_DEBUG ? LogLevel.DEBUG : LogLevel.WARN, [new StreamHandler()]);
const ALPN = 'hq-interop';
const idleMs = 30000;
const maxRequest = 4096;

function fail(msg) {
  console.error('quiche: ' + msg);
  process.exit(1);
}

// The request line's path, or null for anything but "GET /path".
function requestPath(buf) {
  const line = buf.toString('latin1').split(/\r?\n/)[0].trim();
  const m = /^GET (\/\S*)$/.exec(line);
  if (!m) return null;
  let p = path.posix.normalize(decodeURIComponent(m[1]));
  if (p === '/' || p.endsWith('/')) p = path.posix.join(p, 'index.html');
  return p;
}

async function readAll(stream, limit) {
  const chunks = [];
  let n = 0;
  for await (const c of stream.readable) {
    chunks.push(c);
    n += c.byteLength;
    if (limit && n > limit) throw new Error('request too long');
  }
  return Buffer.concat(chunks);
}

// writeEnd writes buf and ends the stream, never with a FIN-only STREAM
// frame. quiche 0.18 counts a stream's sending side complete once its
// data is acknowledged, whether or not the FIN was (SendBuf::is_complete
// compares the acknowledged ranges with 0..fin_off), and collects the
// stream then; a lost FIN-only frame is therefore never sent again and
// the peer waits for the FIN until its idle timeout. The library's writer
// sends the FIN alone (its close() calls streamSend with no data after
// the last write went out), so the last byte goes with the FIN through
// quiche's streamSend; a FIN on a frame with data is resent like data.
async function writeEnd(stream, writer, buf) {
  if (buf.byteLength > 1) await writer.write(buf.subarray(0, buf.byteLength - 1));
  let tail = buf.subarray(Math.max(0, buf.byteLength - 1));
  while (tail.byteLength > 0) {
    // null: no send capacity yet (flow or congestion control).
    const n = stream.connection.conn.streamSend(stream.streamId, tail, true);
    if (n === tail.byteLength) break;
    if (n) tail = tail.subarray(n);
    else await new Promise((r) => setTimeout(r, 5));
  }
  // The FIN is queued already: close() adds nothing to the wire, but
  // closes the writer and makes the connection send.
  await writer.close();
}

async function serveStream(stream) {
  if (env.HQ_DEBUG) {
    console.error(`quiche server: stream ${stream.streamId} opened`);
    stream.addEventListener(events.EventQUICStreamError.name, (e) => console.error(`quiche server: stream ${stream.streamId}: ${e.detail.message} ${e.detail.cause}`));
  }
  const writer = stream.writable.getWriter();
  try {
    const p = requestPath(await readAll(stream, maxRequest));
    if (p === null) throw new Error('bad request');
    await writeEnd(stream, writer, await readFile(path.join(env.HQ_WWW, p)));
  } catch (e) {
    console.error('quiche server: ' + e.message);
    await writer.abort(e).catch(() => {});
  }
}

async function serve() {
  const ua = env.HQ_LISTEN;
  const i = ua.lastIndexOf(':');
  const host = ua.slice(0, i).replace(/^\[|\]$/g, '') || '::';
  const port = Number(ua.slice(i + 1));
  const hmacKey = randomFillSync(Buffer.alloc(32));
  // The library wants ArrayBuffers: it cuts connection IDs out of the
  // signature with a (buffer, offset, length) view, which a Buffer ignores.
  const hmac = (key, data) => {
    const d = createHmac('sha256', Buffer.from(key)).update(Buffer.from(data)).digest();
    return d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength);
  };
  const server = new QUICServer({
    crypto: {
      key: hmacKey.buffer.slice(hmacKey.byteOffset, hmacKey.byteOffset + hmacKey.byteLength),
      ops: {
        sign: async (key, data) => hmac(key, data),
        verify: async (key, data, sig) => {
          const want = Buffer.from(hmac(key, data));
          const got = Buffer.from(sig);
          return got.length === want.length && timingSafeEqual(got, want);
        },
      },
    },
    logger,
    config: {
      key: await readFile(path.join(env.HQ_CERTS, 'priv.key'), 'utf8'),
      cert: await readFile(path.join(env.HQ_CERTS, 'cert.pem'), 'utf8'),
      verifyPeer: false,
      applicationProtos: [ALPN],
      maxIdleTimeout: idleMs,
      initialMaxStreamsBidi: 1000,
      logKeys: env.SSLKEYLOGFILE || undefined,
    },
  });
  server.addEventListener(events.EventQUICServerConnection.name, (evt) => {
    const conn = evt.detail;
    conn.addEventListener(events.EventQUICConnectionStream.name, (e) => void serveStream(e.detail));
    conn.addEventListener(events.EventQUICConnectionError.name, (e) => console.error('quiche server: connection: ' + e.detail.message));
  });
  await server.start({ host, port });
  console.log(`listening on ${host}:${server.port}`);
  const stop = async () => {
    await server.stop({ force: true }).catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// newStream opens a stream, waiting while the server's stream limit is
// reached (the library throws instead of waiting) for a download in
// flight to end and the server to grant more.
async function newStream(client, inFlight) {
  for (;;) {
    try {
      return client.connection.newStream('bidi');
    } catch (e) {
      if (!(e instanceof errors.ErrorQUICStreamLimit)) throw e;
      if (inFlight.size > 0) await Promise.race(inFlight);
      else await new Promise((r) => setTimeout(r, 10));
    }
  }
}

async function download(client, url, inFlight) {
  const stream = await newStream(client, inFlight);
  const writer = stream.writable.getWriter();
  await writeEnd(stream, writer, Buffer.from(`GET ${url.pathname}\r\n`));
  const body = await readAll(stream);
  const dst = path.join(env.HQ_DOWNLOADS, path.posix.normalize('/' + decodeURIComponent(url.pathname)));
  await mkdir(path.dirname(dst), { recursive: true });
  await writeFile(dst, body);
}

async function connect(url) {
  return QUICClient.createQUICClient({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || 443),
    serverName: 'localhost',
    logger,
    crypto: { ops: { randomBytes: async (b) => void randomFillSync(Buffer.from(b)) } },
    config: {
      verifyPeer: false,
      applicationProtos: [ALPN],
      maxIdleTimeout: idleMs,
      logKeys: env.SSLKEYLOGFILE || undefined,
    },
  });
}

async function runClient() {
  const urls = (env.REQUESTS || '').split(/\s+/).filter(Boolean).map((u) => new URL(u));
  if (urls.length === 0) fail('no REQUESTS');
  const groups = env.TESTCASE === 'multiconnect' ? urls.map((u) => [u]) : [urls];
  for (const g of groups) {
    const client = await connect(g[0]);
    try {
      const inFlight = new Set();
      const all = [];
      for (const u of g) {
        const p = download(client, u, inFlight);
        all.push(p);
        const settled = p.catch(() => {}).finally(() => inFlight.delete(settled));
        inFlight.add(settled);
        if (inFlight.size >= 64) await Promise.race(inFlight);
      }
      await Promise.all(all);
    } finally {
      await client.destroy({ isApp: true, errorCode: 0, force: false }).catch(() => {});
    }
  }
}

try {
  if (env.ROLE === 'server') await serve();
  else {
    await runClient();
    process.exit(0);
  }
} catch (e) {
  fail(e && e.stack ? e.stack : String(e));
}
