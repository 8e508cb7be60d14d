// aedes-broker.js PORT - a plain aedes broker on 127.0.0.1:PORT for the
// scenario suite (tests/suite/run-broker.sh). Prints "listening" when ready.
'use strict'
const path = require('path')
const modules = path.join(__dirname, '..', '..', 'ci', 'npm', 'node_modules')
const aedesMod = require(path.join(modules, 'aedes'))
const net = require('net')
const port = parseInt(process.argv[2], 10)
const broker = typeof aedesMod.createBroker === 'function' ? aedesMod.createBroker() : aedesMod()
const server = net.createServer(broker.handle)
server.listen(port, '127.0.0.1', () => console.log('listening'))
process.on('SIGTERM', () => { server.close(); broker.close(() => process.exit(0)) })
