// Starts Bluesky's own test network (@atproto/dev-env: PLC + PDS + AppView + Ozone)
// for tests/realserver, on the loopback ports given, and keeps it up until stdin
// closes or SIGTERM/SIGINT arrives.
//
// Usage: node bluesky_devenv.mjs '<json config>'
//   config: {devenv, postgres, redis, schema, plc, pds, appview, ozone}
//   (devenv = the directory scripts/install-bluesky-devenv.sh printed)
// Protocol, one line each, prefixed so library logging cannot be mistaken for it:
//   out  "CROSSPOST-DEVENV {...}"  {"ready": true, "pds": url, "appview": url, "plc": url}
//   in   "sync"                    waits until the AppView has indexed every PDS event
//   out  "CROSSPOST-DEVENV {...}"  {"synced": true} or {"error": "..."}
import path from 'node:path'
import readline from 'node:readline'
import { pathToFileURL } from 'node:url'

const PREFIX = 'CROSSPOST-DEVENV '
const config = JSON.parse(process.argv[2])
const say = (obj) => process.stdout.write(PREFIX + JSON.stringify(obj) + '\n')

process.env.DB_POSTGRES_URL = config.postgres
process.env.REDIS_HOST = config.redis

const entry = path.join(config.devenv, 'node_modules', '@atproto', 'dev-env', 'dist', 'index.js')
const { TestNetwork } = await import(pathToFileURL(entry).href)

let network
let closing = false
const shutdown = async (code) => {
  if (closing) return
  closing = true
  const timer = setTimeout(() => process.exit(code), 10_000)
  timer.unref()
  try {
    if (network) await network.close()
  } catch (err) {
    process.stderr.write(`close failed: ${err}\n`)
  }
  process.exit(code)
}
process.on('SIGTERM', () => shutdown(0))
process.on('SIGINT', () => shutdown(0))

try {
  network = await TestNetwork.create({
    dbPostgresSchema: config.schema,
    plc: { port: config.plc },
    pds: { port: config.pds, hostname: 'localhost' },
    bsky: { port: config.appview },
    ozone: { port: config.ozone },
  })
} catch (err) {
  process.stderr.write(`dev-env failed to start: ${err?.stack ?? err}\n`)
  say({ error: String(err) })
  await shutdown(1)
}

say({
  ready: true,
  pds: `http://127.0.0.1:${network.pds.port}`,
  appview: `http://127.0.0.1:${network.bsky.port}`,
  plc: `http://127.0.0.1:${network.plc.port}`,
})

const input = readline.createInterface({ input: process.stdin })
input.on('line', async (line) => {
  if (line.trim() !== 'sync') return
  try {
    await network.processAll()
    say({ synced: true })
  } catch (err) {
    say({ error: String(err) })
  }
})
input.on('close', () => shutdown(0))
