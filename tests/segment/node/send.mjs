// Sends through Segment's own Node SDK, pointed at this engine: node send.mjs HOST WRITE_KEY RUN_ID
import { Analytics } from '@segment/analytics-node'

const [host, writeKey, run] = process.argv.slice(2)
const analytics = new Analytics({ writeKey, host, flushAt: 100, flushInterval: 200, httpRequestTimeout: 10000 })
const errors = []
analytics.on('error', (error) => errors.push(String(error.reason ?? error)))

const userId = `node-${run}`
analytics.identify({ userId, anonymousId: `node-anon-${run}`, traits: { plan: 'pro', sdk: 'node' } })
analytics.track({ userId, event: 'Video Played', properties: { element: 'video_player', duration: 12.5, sdk: 'node' } })
analytics.page({ userId, name: 'Pricing', properties: { path: '/pricing' } })
for (let i = 0; i < 500; i++) {
  analytics.track({ userId: `${userId}-${i % 10}`, event: 'Bulk Event', properties: { element: 'bulk', i } })
}
await analytics.closeAndFlush({ timeout: 60000 })
console.log(JSON.stringify({ sent: 503, errors }))
