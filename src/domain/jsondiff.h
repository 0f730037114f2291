/*
 * jsondiff.h - the differences between two JSON documents, for comparing
 * versions of a home's settings document (HE-8): a list of changes
 * {"op": "add" | "remove" | "replace", "path": JSON pointer (RFC 6901),
 *  "from": old value, "to": new value}.
 *
 * Objects are compared member by member (changes in the byte order of the
 * member names), arrays element by element (index paths; elements past the
 * shorter array are added or removed, in ascending index order). A value
 * whose type differs, or a different scalar, is one "replace". Numbers
 * compare by value (1 equals 1.0). "from" is omitted for "add" and "to"
 * for "remove". The list describes the change; it is not a JSON Patch.
 */
#ifndef ENEMANE_DOMAIN_JSONDIFF_H
#define ENEMANE_DOMAIN_JSONDIFF_H

#include <jansson.h>
#include <stddef.h>

#define JSONDIFF_UNLIMITED ((size_t)-1)
#define JSONDIFF_MAX_DEPTH 512

/*
 * Changes from a to b into *changes (a new JSON array, owned by the caller;
 * empty when equal). A NULL document is "absent": NULL to b is one "add" at
 * path "" and a to NULL one "remove". Values in the changes are copies.
 * Returns 0; -E2BIG when there are more than max_changes changes
 * (JSONDIFF_UNLIMITED for no limit); -EINVAL when changes is NULL or the
 * documents nest deeper than JSONDIFF_MAX_DEPTH; -ENOMEM. *changes is
 * NULL on failure.
 */
int jsondiff(const json_t *a, const json_t *b, size_t max_changes, json_t **changes);

#endif
