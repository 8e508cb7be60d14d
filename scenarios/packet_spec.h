/* packet_spec.h - builds codec packets from structured descriptions (a YAML
 * or JSON mapping, the same shape `mqcheck decode --json` prints), including
 * deliberate faults. Used by `mqcheck encode` and by the scenario runner.
 *
 * Ownership: the built mqc_packet borrows from two places - the YAML document
 * (strings) and the caller's arena (hex-decoded bytes, property blocks and
 * lists). Both must outlive the packet. Nothing is allocated here. */
#ifndef MQS_PACKET_SPEC_H
#define MQS_PACKET_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "mqc.h"

typedef struct {
  uint8_t *buf; /* caller-owned */
  size_t cap;
  size_t used;
} mqs_arena;

/* Where and why a description was refused. line and column are 1-based. */
typedef struct {
  size_t line;
  size_t column;
  char message[200];
} mqs_spec_error;

/* Builds *pkt (and *faults, zeroed when the description has none) from the
 * mapping node. v is the protocol version the packet will be encoded for;
 * properties are accepted for any version so invalid packets can be made.
 * Returns 0, or -1 with err filled. */
int mqs_packet_from_yaml(yaml_document_t *doc, yaml_node_t *node, mqc_version v, mqs_arena *arena,
                         mqc_packet *pkt, mqc_faults *faults, mqs_spec_error *err);

#endif
