/* Advanced indexing: the byte offsets of every element of x[index] for an index holding integer
 * arrays, integers and boolean masks, with NumPy's placement of the broadcast index block.
 *
 * The generated code first applies the basic entries (slices, None) as a view v, keeping the
 * axes the advanced entries index; exprc_adv_plan_build then lists, in C order over the indexed
 * region, the offset of each element in v and (for set/inc) in the values broadcast to the
 * region.  Reading, setting and accumulating are then one flat loop over those offsets, typed
 * by the generated code, so repeated positions accumulate in order as np.add.at does.
 */
#ifndef EXPRC_ADVANCED_H
#define EXPRC_ADVANCED_H

#include "exprc_runtime.h"

#define EXPRC_ADV_INT 0
#define EXPRC_ADV_ARRAY 1
#define EXPRC_ADV_MASK 2

typedef struct {
    int kind;                    /* EXPRC_ADV_INT, EXPRC_ADV_ARRAY or EXPRC_ADV_MASK */
    int64_t axis;                /* first axis of the view v it indexes */
    int64_t x_axis;              /* the same axis of the indexed tensor, for messages */
    int64_t naxes;               /* axes a mask covers (1 otherwise) */
    const exprc_array *array;    /* the index array or mask; NULL for an integer */
    int code;                    /* array's itemsize, negated when its dtype is unsigned */
    int64_t value;               /* the position of an integer entry */
} exprc_adv_entry;

typedef struct {
    int64_t ndim;
    int64_t shape[EXPRC_MAXDIM]; /* of the indexed region */
    int64_t n;                   /* elements in the region */
    int64_t *xoff;               /* byte offset in v of each element, C order */
    int64_t *yoff;               /* byte offset in the values of each element, or NULL */
} exprc_adv_plan;

EXPRC_EXPORT void exprc_adv_plan_free(exprc_adv_plan *plan);

/* Element k (C order) of a, as a byte offset from a->data. */
EXPRC_EXPORT int64_t exprc_flat_offset(const exprc_array *a, int64_t k);

/* The per-entry table of byte offsets into v: a contiguous int64 array of the entry's index
 * shape (0-d for an integer, the nonzero count for a mask), bounds checked. */
EXPRC_EXPORT int exprc_adv_entry_offsets(const exprc_array *v, const exprc_adv_entry *e,
                                         exprc_array *table, int64_t **buffer, exprc_error *error,
                                         int64_t node, const char *label);

/* Fill plan for v[index]: the advanced entries index the axes they name, the other axes of v
 * are taken whole, and the broadcast index block goes after the first block_at of them.  With
 * y (the values of a set/inc), also check that y broadcasts to the region and list its
 * offsets.  Returns 0, or -1 with the error filled (the plan then holds nothing to free). */
EXPRC_EXPORT int exprc_adv_plan_build(exprc_adv_plan *plan, const exprc_array *v, int nentries,
                                      const exprc_adv_entry *entries, int64_t block_at,
                                      const exprc_array *y, exprc_error *error, int64_t node,
                                      const char *label);

#endif /* EXPRC_ADVANCED_H */
