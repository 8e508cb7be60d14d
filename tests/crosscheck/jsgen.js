'use strict'
// jsgen.js - random valid packet objects in mqtt-packet's own shape, to be
// encoded by mqtt-packet's generate() and judged by the codec.
//
// The rules here are written from the specification, independently of the
// codec's tables, so a table disagreement shows up as a mismatch. Where
// mqtt-packet's generate() cannot express a valid packet the limit is noted
// (and listed in docs/crosscheck.md); those shapes are covered by the other
// direction, where the codec generates and mqtt-packet parses.

// mulberry32: small and seedable; the test's seeds reproduce exactly.
function rng (seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const r = {
    below: n => Math.floor(next() * n),
    chance: (num, den) => next() * den < num,
    pick: list => list[Math.floor(next() * list.length)]
  }
  return r
}

function pickLen (r, max) {
  const k = r.below(100)
  const n = k < 70 ? r.below(12) : k < 95 ? r.below(200) : r.below(1200)
  return Math.min(n, max)
}

// Same code-point mix as the C generator: ASCII, controls, 2/3/4-byte forms;
// never U+0000 or a surrogate.
function codePoint (r, banned) {
  for (;;) {
    const k = r.below(100)
    const cp = k < 75
      ? 0x20 + r.below(0x5f)
      : k < 78 ? 1 + r.below(0x1f)
        : k < 86 ? 0x80 + r.below(0x780)
          : k < 94 ? 0x800 + r.below(0xf800)
            : 0x10000 + r.below(0x100000)
    if (cp >= 0xd800 && cp <= 0xdfff) continue
    if (cp < 0x80 && banned && banned.includes(String.fromCharCode(cp))) continue
    return cp
  }
}

function text (r, maxChars, banned, exact) {
  const n = exact === undefined ? pickLen(r, maxChars) : exact
  let s = ''
  for (let i = 0; i < n; i++) s += String.fromCodePoint(codePoint(r, banned))
  return s
}

function binary (r, max) {
  const n = pickLen(r, max)
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = r.below(256)
  return b
}

// Topic name: no wildcards (MQTT-3.3.2-2), non-empty (MQTT-4.7.3-1).
function topic (r) {
  for (;;) {
    const levels = 1 + r.below(5)
    const parts = []
    for (let i = 0; i < levels; i++) parts.push(text(r, 0, '+#/', r.below(11)))
    const t = parts.join('/')
    if (t.length) return t
  }
}

// Topic filter (4.7.1) and, in 5.0, shared subscriptions (4.8.2).
function filter (r, v5) {
  const shared = v5 && r.chance(1, 8)
  const prefix = shared ? '$share/' + text(r, 0, '+#/', 1 + r.below(10)) + '/' : ''
  for (;;) {
    const levels = 1 + r.below(5)
    const parts = []
    for (let i = 0; i < levels; i++) {
      const k = r.below(10)
      parts.push(k < 2 ? '+' : (k < 3 && i + 1 === levels) ? '#' : text(r, 0, '+#/', r.below(11)))
    }
    const f = parts.join('/')
    if (f.length) return { filter: prefix + f, shared }
  }
}

// Where each property may appear (MQTT 5.0, 2.2.2.2). 'will' is the CONNECT
// will-properties block.
const PROP_PLACES = {
  payloadFormatIndicator: ['publish', 'will'],
  messageExpiryInterval: ['publish', 'will'],
  contentType: ['publish', 'will'],
  responseTopic: ['publish', 'will'],
  correlationData: ['publish', 'will'],
  subscriptionIdentifier: ['publish', 'subscribe'],
  sessionExpiryInterval: ['connect', 'connack', 'disconnect'],
  assignedClientIdentifier: ['connack'],
  serverKeepAlive: ['connack'],
  authenticationMethod: ['connect', 'connack', 'auth'],
  authenticationData: ['connect', 'connack', 'auth'],
  requestProblemInformation: ['connect'],
  willDelayInterval: ['will'],
  requestResponseInformation: ['connect'],
  responseInformation: ['connack'],
  serverReference: ['connack', 'disconnect'],
  reasonString: ['connack', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'suback', 'unsuback', 'disconnect', 'auth'],
  receiveMaximum: ['connect', 'connack'],
  topicAliasMaximum: ['connect', 'connack'],
  topicAlias: ['publish'],
  maximumQoS: ['connack'],
  retainAvailable: ['connack'],
  userProperties: ['connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe',
    'suback', 'unsubscribe', 'unsuback', 'disconnect', 'auth', 'will'],
  maximumPacketSize: ['connect', 'connack'],
  wildcardSubscriptionAvailable: ['connack'],
  subscriptionIdentifiersAvailable: ['connack'],
  sharedSubscriptionAvailable: ['connack']
}

const BOOL_PROPS = new Set(['payloadFormatIndicator', 'requestProblemInformation', 'requestResponseInformation',
  'retainAvailable', 'wildcardSubscriptionAvailable', 'subscriptionIdentifiersAvailable',
  'sharedSubscriptionAvailable'])

function propValue (r, name) {
  if (BOOL_PROPS.has(name)) return r.chance(1, 2) // mqtt-packet wants booleans here
  switch (name) {
    case 'maximumQoS': return r.below(2) // 0 or 1 (3.2.2.3.4)
    case 'receiveMaximum': case 'topicAlias': return 1 + r.below(0xffff) // 0 is an error
    case 'topicAliasMaximum': case 'serverKeepAlive': return r.below(0x10000)
    case 'maximumPacketSize': return 1 + r.below(0xffffffff)
    case 'messageExpiryInterval': case 'sessionExpiryInterval': case 'willDelayInterval':
      return r.below(0x100000000)
    case 'subscriptionIdentifier': return 1 + r.below(r.chance(1, 2) ? 127 : 268435455)
    case 'responseTopic': return topic(r)
    case 'correlationData': case 'authenticationData': return binary(r, 120)
    default: return text(r, 40) // the remaining properties are UTF-8 strings
  }
}

// A properties object for 'place', sent from dir ('c' or 's'), or undefined.
function props (r, place, dir) {
  const density = r.below(4)
  if (density === 0) return undefined
  const out = {}
  for (const [name, places] of Object.entries(PROP_PLACES)) {
    if (!places.includes(place) || name === 'authenticationData') continue
    if (name === 'subscriptionIdentifier' && place === 'publish' && dir === 'c') continue // MQTT-3.3.4-6
    if (name === 'sessionExpiryInterval' && place === 'disconnect' && dir === 's') continue // MQTT-3.14.2-2
    if (!r.chance(density, 5)) continue
    if (name === 'userProperties') {
      // Never empty: generate() refuses an empty userProperties object.
      const up = {}
      const n = 1 + r.below(4)
      for (let i = 0; i < n; i++) {
        const key = text(r, 12)
        const value = text(r, 40)
        if (key in up) up[key] = [].concat(up[key], value)
        else if (r.chance(1, 4)) up[key] = [value, text(r, 40)] // a repeated key
        else up[key] = value
      }
      out.userProperties = up
    } else if (name === 'subscriptionIdentifier' && place === 'publish' && r.chance(1, 3)) {
      out.subscriptionIdentifier = [propValue(r, name), propValue(r, name)]
    } else {
      out[name] = propValue(r, name)
    }
  }
  if (out.authenticationMethod !== undefined && r.chance(1, 2)) {
    out.authenticationData = propValue(r, 'authenticationData')
  }
  return Object.keys(out).length ? out : undefined
}

// 5.0 reason codes per packet (3.x.2.1 tables); DISCONNECT by sender.
const REASONS = {
  connack: [0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97,
    0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f],
  puback: [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99],
  pubrec: [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99],
  pubrel: [0x00, 0x92],
  pubcomp: [0x00, 0x92],
  suback: [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2],
  unsuback: [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91],
  // AUTH by sender (Table 3-13): Success from the server, Re-authenticate
  // from the client, Continue authentication from either.
  auth_c: [0x18, 0x19],
  auth_s: [0x00, 0x18],
  disconnect_c: [0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99],
  disconnect_s: [0x00, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95,
    0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2]
}

// Biased to 0x00 where the packet allows it.
function reason (r, key) {
  const list = REASONS[key]
  return list[0] === 0 && r.chance(1, 3) ? 0 : r.pick(list)
}

const id = r => 1 + r.below(0xffff) // non-zero (MQTT-2.2.1-3)

const CMDS = ['connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'suback',
  'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', 'auth']

function direction (r, cmd, v) {
  if (['connect', 'subscribe', 'unsubscribe', 'pingreq'].includes(cmd)) return 'c'
  if (['connack', 'suback', 'unsuback', 'pingresp'].includes(cmd)) return 's'
  if (cmd === 'disconnect') return v === 5 && r.chance(1, 2) ? 's' : 'c'
  return r.chance(1, 2) ? 's' : 'c'
}

// One random packet: { version, dir, packet }.
function packet (r, v) {
  const v5 = v === 5
  const cmd = CMDS[r.below(v5 ? 15 : 14)]
  const dir = direction(r, cmd, v)
  const p = { cmd }
  switch (cmd) {
    case 'connect': {
      p.protocolId = v === 3 ? 'MQIsdp' : 'MQTT'
      p.protocolVersion = v
      p.clean = r.chance(1, 2)
      p.keepalive = r.below(0x10000)
      if (v === 3) {
        // 3.1: 1..23 characters. generate() cannot send an empty one.
        p.clientId = ''
        const n = 1 + r.below(23)
        for (let i = 0; i < n; i++) p.clientId += String.fromCharCode(0x30 + r.below(75))
      } else {
        p.clientId = text(r, 30)
        // MQTT-3.1.3-7 in 3.1.1; in 5.0 generate() insists on it too.
        if (p.clientId === '') p.clean = true
      }
      if (v5) p.properties = props(r, 'connect', dir)
      if (r.chance(2, 5)) {
        p.will = { topic: topic(r), payload: binary(r, 300), qos: r.below(3), retain: r.chance(1, 2) }
        if (v5) p.will.properties = props(r, 'will', dir)
      }
      if (r.chance(1, 2)) {
        p.username = text(r, 20)
        // generate() cannot send a password without a user name (legal in 5.0).
        if (r.chance(1, 2)) p.password = binary(r, 60)
      }
      break
    }
    case 'connack':
      if (v5) {
        p.reasonCode = reason(r, 'connack')
        p.properties = props(r, 'connack', dir)
      } else {
        p.returnCode = r.chance(1, 2) ? 0 : r.below(6)
      }
      // Session Present only with success; 3.1 has no such flag.
      p.sessionPresent = v !== 3 && (v5 ? p.reasonCode : p.returnCode) === 0 && r.chance(1, 2)
      break
    case 'publish': {
      p.qos = r.below(3)
      p.dup = p.qos > 0 && r.chance(1, 3)
      p.retain = r.chance(1, 2)
      if (p.qos) p.messageId = id(r)
      if (v5) p.properties = props(r, 'publish', dir)
      const alias = p.properties && p.properties.topicAlias !== undefined
      p.topic = alias && r.chance(1, 2) ? '' : topic(r)
      // Now and then big enough for a three-byte remaining length.
      p.payload = r.chance(1, 150) ? Buffer.alloc(16384 + r.below(8000), 0x5a) : binary(r, 400)
      break
    }
    case 'puback': case 'pubrec': case 'pubrel': case 'pubcomp':
      p.messageId = id(r)
      if (v5) {
        p.reasonCode = reason(r, cmd)
        p.properties = props(r, cmd, dir)
      }
      break
    case 'subscribe': {
      p.messageId = id(r)
      if (v5) p.properties = props(r, 'subscribe', dir)
      const n = 1 + r.below(r.chance(1, 4) ? 12 : 3)
      p.subscriptions = []
      for (let i = 0; i < n; i++) {
        const f = filter(r, v5)
        const s = { topic: f.filter, qos: r.below(3) }
        if (v5) {
          s.nl = !f.shared && r.chance(1, 2) // MQTT-3.8.3-4
          s.rap = r.chance(1, 2)
          s.rh = r.below(3)
        }
        p.subscriptions.push(s)
      }
      break
    }
    case 'unsubscribe': {
      p.messageId = id(r)
      if (v5) p.properties = props(r, 'unsubscribe', dir)
      const n = 1 + r.below(r.chance(1, 4) ? 12 : 3)
      p.unsubscriptions = []
      for (let i = 0; i < n; i++) p.unsubscriptions.push(filter(r, v5).filter)
      break
    }
    case 'suback': case 'unsuback': {
      p.messageId = id(r)
      if (!v5 && cmd === 'unsuback') break
      if (v5) p.properties = props(r, cmd, dir)
      const n = 1 + r.below(r.chance(1, 4) ? 12 : 3)
      p.granted = []
      for (let i = 0; i < n; i++) {
        p.granted.push(v5 ? reason(r, cmd) : v === 4 && r.chance(1, 4) ? 0x80 : r.below(3))
      }
      break
    }
    case 'disconnect': case 'auth':
      if (v5) {
        p.reasonCode = reason(r, cmd + '_' + dir)
        p.properties = props(r, cmd, dir)
      }
      break
  }
  return { version: v, dir, packet: p }
}

module.exports = { rng, packet }
