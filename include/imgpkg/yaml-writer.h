/* yaml-writer.h - YAML documents written through libyaml's emitter (block
 * style, scalars quoted only when they need it). */
#ifndef IMGPKG_YAML_WRITER_H
#define IMGPKG_YAML_WRITER_H

#include <stdbool.h>

#include "imgpkg/util.h"

struct ip_yaml_writer;
/* with_marker: start the document with "---" as imgpkg does */
struct ip_yaml_writer *ip_yaml_writer_new(bool with_marker);
/* Strings, written as go-yaml (imgpkg's YAML library) writes them: quoted
 * when plain text would read as a bool, null, number or timestamp. */
void ip_yaml_scalar(struct ip_yaml_writer *w, const char *s);
/* A value that is not a string (true, 3): written as it is. */
void ip_yaml_plain(struct ip_yaml_writer *w, const char *s);
void ip_yaml_kv(struct ip_yaml_writer *w, const char *key, const char *val);
void ip_yaml_map_start(struct ip_yaml_writer *w);
void ip_yaml_map_end(struct ip_yaml_writer *w);
/* an empty mapping written as {} */
void ip_yaml_flow_map_start(struct ip_yaml_writer *w);
void ip_yaml_seq_start(struct ip_yaml_writer *w);
void ip_yaml_seq_end(struct ip_yaml_writer *w);
/* True when the string s must be quoted to read back as a string. */
bool ip_yaml_string_needs_quotes(const char *s);
/* go-yaml's order of map keys (runs of digits compared as numbers). */
int ip_yaml_key_cmp(const char *a, const char *b);
/* Ends the document, appends its bytes to out and frees the writer. */
int ip_yaml_writer_finish(struct ip_yaml_writer *w, struct ip_buf *out, struct ip_err *err);

#endif
