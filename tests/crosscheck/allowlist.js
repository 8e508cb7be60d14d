'use strict'
// allowlist.js - known, explained disagreements between the codec and
// mqtt-packet. Each entry is decided from the specification (see
// docs/crosscheck.md) and matches one precise shape; anything else that
// differs fails the cross-check. An entry that stops matching anything is
// reported too, so a fixed upstream bug does not leave a stale excuse behind.
//
// match(c) gets { way: 'c2js' | 'js2c', version, hex, type, cView, jsView,
// error } where the views are canonical forms (normalise.js) and error is the
// rejecting side's message. An entry either recognises an error, or predicts
// through expect(cView) exactly what mqtt-packet reports instead.

const { stable } = require('./normalise')

// mqtt-packet's parser stores user properties in an object and, on a repeated
// key, tests the stored value for truthiness: an empty first value is
// overwritten instead of being turned into an array.
function mqttPacketUserProps (user) {
  const out = {}
  for (const [key, values] of Object.entries(user)) {
    let cur
    for (const v of values) {
      if (cur) cur = Array.isArray(cur) ? cur.concat(v) : [cur, v]
      else cur = v
    }
    out[key] = Array.isArray(cur) ? cur : [cur]
  }
  return out
}

function withMqttPacketUserProps (view) {
  const copy = JSON.parse(JSON.stringify(view))
  const fix = props => {
    if (props && props.user_property) props.user_property = mqttPacketUserProps(props.user_property)
  }
  fix(copy.props)
  if (copy.will) fix(copy.will.props)
  return copy
}

const ALLOWLIST = [
  {
    id: 'mqtt-packet/auth-without-reason',
    why: 'MQTT 5.0 3.15.2.1: the Reason Code and Property Length of AUTH can be omitted when ' +
      'the Reason Code is 0x00 and there are no properties (Remaining Length 0). mqtt-packet 9.0.2 ' +
      'reads a reason byte unconditionally and rejects f000 with "Invalid auth reason code". ' +
      'The codec is right.',
    match: c => c.way === 'c2js' && c.hex === 'f000' && /Invalid auth reason code/.test(c.error || '')
  },
  {
    id: 'spec/disconnect-0x8c',
    why: 'MQTT 5.0 is inconsistent: Table 2-6 lists 0x8C (Bad authentication method) for ' +
      'CONNACK and DISCONNECT, but the DISCONNECT table in 3.14.2.1 omits it. The codec follows ' +
      'Table 2-6 (accepts it from a server); mqtt-packet follows 3.14.2.1 (rejects it). Both ' +
      'readings are defensible; the codec is the more lenient receiver.',
    match: c => c.way === 'c2js' && c.type === 'DISCONNECT' && c.cView.reason_code === 0x8c &&
      /Invalid disconnect reason code/.test(c.error || '')
  },
  {
    id: 'mqtt-packet/user-property-empty-first-value',
    why: 'MQTT 5.0 3.1.2.11.8: a User Property may appear several times with the same name, and ' +
      'every pair must be kept in order. mqtt-packet 9.0.2 (parser.js, _parseProperties) tests ' +
      'the stored value for truthiness, so when the first value under a name is the empty string ' +
      'the next value replaces it and the empty value is lost. The codec is right.',
    expect: cView => withMqttPacketUserProps(cView)
  }
]

// The entry explaining this mismatch, or null.
function explain (c) {
  for (const entry of ALLOWLIST) {
    if (entry.match && entry.match(c)) return entry
    if (entry.expect && !c.error && c.cView && c.jsView && c.way === 'c2js') {
      const predicted = stable(entry.expect(c.cView))
      if (predicted !== stable(c.cView) && predicted === stable(c.jsView)) return entry
    }
  }
  return null
}

module.exports = { ALLOWLIST, explain }
