'use strict'
// normalise.js - one canonical form for a packet, reached from either side:
// the codec's JSON (mqc_print_json) or an mqtt-packet object. Two views of
// the same bytes must normalise to the same canonical form.
//
// Canonical form: upper-case type, snake_case fields, every string and binary
// field as lower-case hex of its bytes, properties as
//   { snake_name: [value, ...], user_property: { keyhex: [valuehex, ...] } }
// Properties are grouped by name because mqtt-packet keeps them in an object
// (repeats become arrays, and user properties are keyed by name, so the order
// between different names is lost; the order of values under one name is
// kept, and so is compared).

// Property identifiers by the codec's snake_case name (MQTT 5.0, 2.2.2.2).
const SNAKE_IDS = {
  payload_format_indicator: 0x01,
  message_expiry_interval: 0x02,
  content_type: 0x03,
  response_topic: 0x08,
  correlation_data: 0x09,
  subscription_identifier: 0x0b,
  session_expiry_interval: 0x11,
  assigned_client_identifier: 0x12,
  server_keep_alive: 0x13,
  authentication_method: 0x15,
  authentication_data: 0x16,
  request_problem_information: 0x17,
  will_delay_interval: 0x18,
  request_response_information: 0x19,
  response_information: 0x1a,
  server_reference: 0x1c,
  reason_string: 0x1f,
  receive_maximum: 0x21,
  topic_alias_maximum: 0x22,
  topic_alias: 0x23,
  maximum_qos: 0x24,
  retain_available: 0x25,
  user_property: 0x26,
  maximum_packet_size: 0x27,
  wildcard_subscription_available: 0x28,
  subscription_identifier_available: 0x29,
  shared_subscription_available: 0x2a
}
const SNAKE_BY_ID = {}
for (const [name, id] of Object.entries(SNAKE_IDS)) SNAKE_BY_ID[id] = name

function hexOfText (s) {
  return Buffer.from(s, 'utf8').toString('hex')
}

// The codec prints bytes as a JSON string when they are valid UTF-8, else as
// {"hex": "..."}.
function hexOfC (v) {
  if (v === undefined || v === null) return null
  return typeof v === 'string' ? hexOfText(v) : v.hex
}

// mqtt-packet uses strings for UTF-8 fields and Buffers for binary ones.
function hexOfJs (v) {
  if (v === undefined || v === null) return null
  if (Buffer.isBuffer(v)) return v.toString('hex')
  if (typeof v === 'string') return hexOfText(v)
  throw new Error('not bytes: ' + JSON.stringify(v))
}

function propsFromC (list) {
  const out = {}
  for (const entry of list || []) {
    const [name, value] = Object.entries(entry)[0]
    if (name === 'user_property') {
      out.user_property = out.user_property || {}
      const key = hexOfText(value[0])
      ;(out.user_property[key] = out.user_property[key] || []).push(hexOfText(value[1]))
      continue
    }
    const v = typeof value === 'number' ? value : hexOfC(value)
    ;(out[name] = out[name] || []).push(v)
  }
  return out
}

function propsFromJs (props, camelIds) {
  const out = {}
  for (const [camel, value] of Object.entries(props || {})) {
    if (value === undefined) continue
    const name = SNAKE_BY_ID[camelIds[camel]]
    if (!name) throw new Error('unknown mqtt-packet property ' + camel)
    if (name === 'user_property') {
      out.user_property = {}
      for (const [k, vs] of Object.entries(value)) {
        out.user_property[hexOfText(k)] = (Array.isArray(vs) ? vs : [vs]).map(x => hexOfText(String(x)))
      }
      continue
    }
    out[name] = (Array.isArray(value) ? value : [value]).map(x =>
      typeof x === 'boolean' ? (x ? 1 : 0) : typeof x === 'number' ? x : hexOfJs(x))
  }
  return out
}

// ---- from the codec's JSON ------------------------------------------------

function fromC (j, version) {
  const v5 = version === 5
  const p = propsFromC(j.properties)
  const t = j.type
  switch (t) {
    case 'CONNECT':
      return {
        type: t,
        protocol_name: hexOfC(j.protocol_name),
        protocol_level: j.protocol_level,
        clean_start: j.clean_start,
        keep_alive: j.keep_alive,
        props: p,
        client_id: hexOfC(j.client_id),
        will: j.will
          ? {
              qos: j.will.qos,
              retain: j.will.retain,
              props: propsFromC(j.will.properties),
              topic: hexOfC(j.will.topic),
              payload: hexOfC(j.will.payload)
            }
          : null,
        username: hexOfC(j.username),
        password: hexOfC(j.password)
      }
    case 'CONNACK':
      return { type: t, session_present: j.session_present, reason_code: j.reason_code, props: p }
    case 'PUBLISH':
      return {
        type: t,
        dup: j.dup,
        qos: j.qos,
        retain: j.retain,
        topic: hexOfC(j.topic),
        packet_id: j.qos ? j.packet_id : null,
        props: p,
        payload: hexOfC(j.payload)
      }
    case 'PUBACK': case 'PUBREC': case 'PUBREL': case 'PUBCOMP':
      return { type: t, packet_id: j.packet_id, reason_code: v5 ? j.reason_code : null, props: p }
    case 'SUBSCRIBE':
      return {
        type: t,
        packet_id: j.packet_id,
        props: p,
        subscriptions: j.subscriptions.map(s => v5
          ? { filter: hexOfC(s.topic_filter), qos: s.qos, nl: s.no_local, rap: s.retain_as_published, rh: s.retain_handling }
          : { filter: hexOfC(s.topic_filter), qos: s.qos })
      }
    case 'UNSUBSCRIBE':
      return { type: t, packet_id: j.packet_id, props: p, filters: j.topic_filters.map(hexOfC) }
    case 'SUBACK': case 'UNSUBACK':
      return { type: t, packet_id: j.packet_id, props: p, reason_codes: j.reason_codes || null }
    case 'DISCONNECT': case 'AUTH':
      return { type: t, reason_code: v5 ? j.reason_code : null, props: p }
    default:
      return { type: t }
  }
}

// ---- from an mqtt-packet object ---------------------------------------------

function fromJs (m, version, camelIds) {
  const v5 = version === 5
  const t = m.cmd.toUpperCase()
  const p = propsFromJs(m.properties, camelIds)
  switch (t) {
    case 'CONNECT': {
      const w = m.will
      return {
        type: t,
        protocol_name: hexOfJs(m.protocolId || 'MQTT'),
        protocol_level: m.protocolVersion || 4,
        clean_start: m.clean === undefined ? true : !!m.clean,
        keep_alive: m.keepalive || 0,
        props: p,
        client_id: hexOfJs(m.clientId || ''),
        will: w
          ? {
              qos: w.qos || 0,
              retain: !!w.retain,
              props: propsFromJs(w.properties, camelIds),
              topic: hexOfJs(w.topic),
              payload: hexOfJs(w.payload || Buffer.alloc(0))
            }
          : null,
        username: m.username == null ? null : hexOfJs(m.username),
        password: m.password == null ? null : hexOfJs(m.password)
      }
    }
    case 'CONNACK':
      return {
        type: t,
        session_present: !!m.sessionPresent,
        reason_code: v5 ? m.reasonCode : m.returnCode,
        props: p
      }
    case 'PUBLISH':
      return {
        type: t,
        dup: !!m.dup,
        qos: m.qos || 0,
        retain: !!m.retain,
        topic: hexOfJs(m.topic),
        packet_id: m.qos ? m.messageId : null,
        props: p,
        payload: hexOfJs(m.payload || Buffer.alloc(0))
      }
    case 'PUBACK': case 'PUBREC': case 'PUBREL': case 'PUBCOMP':
      return { type: t, packet_id: m.messageId, reason_code: v5 ? (m.reasonCode || 0) : null, props: p }
    case 'SUBSCRIBE':
      return {
        type: t,
        packet_id: m.messageId,
        props: p,
        subscriptions: m.subscriptions.map(s => v5
          ? { filter: hexOfJs(s.topic), qos: s.qos, nl: !!s.nl, rap: !!s.rap, rh: s.rh || 0 }
          : { filter: hexOfJs(s.topic), qos: s.qos })
      }
    case 'UNSUBSCRIBE':
      return { type: t, packet_id: m.messageId, props: p, filters: m.unsubscriptions.map(hexOfJs) }
    case 'SUBACK':
      return { type: t, packet_id: m.messageId, props: p, reason_codes: m.granted }
    case 'UNSUBACK':
      return { type: t, packet_id: m.messageId, props: p, reason_codes: v5 ? m.granted : null }
    case 'DISCONNECT': case 'AUTH':
      return { type: t, reason_code: v5 ? (m.reasonCode || 0) : null, props: p }
    default:
      return { type: t }
  }
}

// JSON with sorted keys, so equal forms print identically.
function stable (x) {
  if (Array.isArray(x)) return '[' + x.map(stable).join(',') + ']'
  if (x && typeof x === 'object') {
    return '{' + Object.keys(x).sort().map(k => JSON.stringify(k) + ':' + stable(x[k])).join(',') + '}'
  }
  return JSON.stringify(x === undefined ? null : x)
}

module.exports = { fromC, fromJs, stable, SNAKE_IDS }
