/* Per-shard random draws of the mover sampling in one C call, the same numbers numpy draws.
 *
 * movers.py picks a shard's movers with ~15 numpy calls on arrays of a few hundred rows, so
 * their cost is per call, not per row, and a task pays it once per shard per tick (random
 * streams are per shard: that keeps a shard's output independent of the task that steps it).
 * This does the same work in one call: the same numpy distribution functions
 * (random_geometric, random_bounded_uint64_fill, from numpy's own libnpyrandom) on the same
 * bit generator, in the same order and counts, with the same arithmetic, so the rows and
 * draws are identical; connector/engine/draws.py checks that against the numpy path before
 * using it, and uses the numpy path wherever this module is missing or disagrees.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdbool.h>
#include <stdint.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include <numpy/random/bitgen.h>

/* From numpy/random/distributions.h (libnpyrandom); declared here so that the build needs only
 * numpy's core headers. */
extern int64_t random_geometric(bitgen_t *bitgen_state, double p);
extern void random_bounded_uint64_fill(bitgen_t *bitgen_state, uint64_t off, uint64_t rng,
                                       npy_intp cnt, bool use_masked, uint64_t *out);

static bitgen_t *bitgen_of(PyObject *capsule) {
    return (bitgen_t *)PyCapsule_GetPointer(capsule, "BitGenerator");
}

/* states[i] as int64 whatever the integer width and signedness of the state column. */
static inline int64_t state_at(const char *data, int itemsize, bool is_signed, npy_intp i) {
    switch (itemsize) {
    case 1: return is_signed ? (int64_t)((const int8_t *)data)[i]
                             : (int64_t)((const uint8_t *)data)[i];
    case 2: return is_signed ? (int64_t)((const int16_t *)data)[i]
                             : (int64_t)((const uint16_t *)data)[i];
    case 4: return is_signed ? (int64_t)((const int32_t *)data)[i]
                             : (int64_t)((const uint32_t *)data)[i];
    default: return ((const int64_t *)data)[i];
    }
}

/* pick(capsule, states, dominant, total, others, totals, chunk) -> (rows intp, draws int64)
 *
 * movers.pick_movers for a dominant state whose chance `total` (of ONE = 2**32) is below
 * _DIRECT_FROM: rows of `states` drawn with geometric gaps, `chunk` gaps at a time (as
 * _bernoulli_rows draws them; chunk >= 1), kept where in the dominant state, each given integers(0, max(total, 1)); then each of
 * `others` (the other states' rows, ascending) draws a uint32 from random_raw and moves if it
 * is below totals[its state]. Not ordered (the caller sorts if it needs to). */
static PyObject *pick(PyObject *self, PyObject *args) {
    PyObject *capsule;
    PyArrayObject *states, *others, *totals;
    long long dominant, total;
    Py_ssize_t chunk;
    if (!PyArg_ParseTuple(args, "OO!LLO!O!n", &capsule, &PyArray_Type, &states, &dominant,
                          &total, &PyArray_Type, &others, &PyArray_Type, &totals, &chunk))
        return NULL;
    if (chunk < 1) {
        PyErr_SetString(PyExc_ValueError, "pick: chunk must be at least 1");
        return NULL;
    }
    bitgen_t *bitgen = bitgen_of(capsule);
    if (bitgen == NULL)
        return NULL;
    if (PyArray_NDIM(states) != 1 || !PyArray_ISINTEGER(states) ||
        (PyArray_ITEMSIZE(states) == 8 && !PyArray_ISSIGNED(states)) || !PyArray_ISCARRAY_RO(states) ||
        PyArray_NDIM(others) != 1 || PyArray_TYPE(others) != NPY_INTP ||
        !PyArray_ISCARRAY_RO(others) || PyArray_NDIM(totals) != 1 ||
        PyArray_TYPE(totals) != NPY_INT64 || !PyArray_ISCARRAY_RO(totals)) {
        PyErr_SetString(PyExc_TypeError, "pick: contiguous 1-d states, intp others, int64 totals");
        return NULL;
    }
    const npy_intp n = PyArray_DIM(states, 0), n_others = PyArray_DIM(others, 0);
    const npy_intp n_totals = PyArray_DIM(totals, 0);
    const char *state_data = PyArray_BYTES(states);
    const int width = (int)PyArray_ITEMSIZE(states);
    const bool is_signed = PyArray_ISSIGNED(states);
    const npy_intp *other_rows = (const npy_intp *)PyArray_DATA(others);
    const int64_t *total_of = (const int64_t *)PyArray_DATA(totals);
    const double p = (double)total / 4294967296.0;  /* total / ONE, as Python divides */

    /* Geometric gaps: _bernoulli_rows, chunk by chunk, keeping only the rows below n. */
    npy_intp found = 0, capacity = 0;
    npy_intp *candidates = NULL;
    if (p > 0.0 && n > 0) {
        int64_t last = -1;
        for (;;) {
            if (found + chunk > capacity) {
                capacity = found + chunk;
                npy_intp *grown = PyMem_Realloc(candidates, (size_t)capacity * sizeof(npy_intp));
                if (grown == NULL) {
                    PyMem_Free(candidates);
                    return PyErr_NoMemory();
                }
                candidates = grown;
            }
            /* cumsum + last in int64, wrapping as numpy does (unsigned arithmetic) */
            uint64_t position = (uint64_t)last;
            bool done = false;
            for (npy_intp i = 0; i < chunk; i++) {
                position += (uint64_t)random_geometric(bitgen, p);
                if (!done) {
                    if ((int64_t)position >= (int64_t)n) {
                        done = true;  /* the rest of the chunk is drawn, as numpy draws it */
                    } else {
                        candidates[found++] = (npy_intp)(int64_t)position;
                    }
                }
            }
            /* numpy keeps positions[:searchsorted(n)] of an ascending chunk and stops when
             * its last position is >= n; positions ascend (gaps >= 1) unless they wrap. */
            if ((int64_t)position >= (int64_t)n)
                break;
            if (done) {  /* a wrap made a later position smaller: not the case numpy handles */
                PyMem_Free(candidates);
                PyErr_SetString(PyExc_OverflowError, "pick: geometric positions wrapped");
                return NULL;
            }
            last = (int64_t)position;
        }
    }
    npy_intp kept = 0;
    for (npy_intp i = 0; i < found; i++) {
        if (state_at(state_data, width, is_signed, candidates[i]) == dominant)
            candidates[kept++] = candidates[i];
    }

    /* The other states' movers: at most n_others more rows. */
    npy_intp rows_dims[1] = {kept + n_others};
    PyArrayObject *rows = (PyArrayObject *)PyArray_SimpleNew(1, rows_dims, NPY_INTP);
    PyArrayObject *draws = (PyArrayObject *)PyArray_SimpleNew(1, rows_dims, NPY_INT64);
    uint64_t *raw = NULL;
    if (rows == NULL || draws == NULL)
        goto fail;
    npy_intp *row_out = (npy_intp *)PyArray_DATA(rows);
    int64_t *draw_out = (int64_t *)PyArray_DATA(draws);
    memcpy(row_out, candidates, (size_t)kept * sizeof(npy_intp));
    if (kept) {  /* numpy returns before drawing when the size is 0 */
        const uint64_t bound = (uint64_t)(total > 1 ? total : 1) - 1;
        random_bounded_uint64_fill(bitgen, 0, bound, kept, false, (uint64_t *)draw_out);
    }
    npy_intp moved = kept;
    if (n_others) {
        const npy_intp words = (n_others + 1) / 2;
        raw = PyMem_Malloc((size_t)words * sizeof(uint64_t));
        if (raw == NULL) {
            PyErr_NoMemory();
            goto fail;
        }
        for (npy_intp i = 0; i < words; i++)
            raw[i] = bitgen->next_raw(bitgen->state);
        const uint32_t *u = (const uint32_t *)raw;  /* little-endian halves, as .view(uint32) */
        for (npy_intp i = 0; i < n_others; i++) {
            const npy_intp row = other_rows[i];
            if (row < 0 || row >= n) {
                PyErr_SetString(PyExc_IndexError, "pick: a row of others is out of range");
                goto fail;
            }
            const int64_t state = state_at(state_data, width, is_signed, row);
            if (state < 0 || state >= n_totals) {
                PyErr_SetString(PyExc_IndexError, "pick: a state has no total");
                goto fail;
            }
            if ((int64_t)u[i] < total_of[state]) {
                row_out[moved] = row;
                draw_out[moved++] = (int64_t)u[i];
            }
        }
    }
    PyMem_Free(raw);
    raw = NULL;
    PyMem_Free(candidates);
    candidates = NULL;
    /* Shrink to the movers (the buffers were sized for every one of the others moving). */
    rows_dims[0] = moved;
    PyArray_Dims shape = {rows_dims, 1};
    PyObject *resized = PyArray_Resize(rows, &shape, 0, NPY_CORDER);
    if (resized == NULL)
        goto fail;
    Py_DECREF(resized);
    resized = PyArray_Resize(draws, &shape, 0, NPY_CORDER);
    if (resized == NULL)
        goto fail;
    Py_DECREF(resized);
    return Py_BuildValue("(NN)", rows, draws);
fail:
    Py_XDECREF(rows);
    Py_XDECREF(draws);
    PyMem_Free(raw);
    PyMem_Free(candidates);
    return NULL;
}

/* bounded(capsules, bounds, off, rng) -> int64 array of bounds[-1] values: slice k drawn from
 * capsules[k] as integers(off, off + rng, endpoint=True) of that size draws it (nothing drawn
 * for an empty slice, as numpy returns before drawing). */
static PyObject *bounded(PyObject *self, PyObject *args) {
    PyObject *capsules, *bounds;
    long long off;
    unsigned long long rng;
    if (!PyArg_ParseTuple(args, "O!O!LK", &PyList_Type, &capsules, &PyList_Type, &bounds, &off,
                          &rng))
        return NULL;
    const Py_ssize_t parts = PyList_GET_SIZE(capsules);
    if (PyList_GET_SIZE(bounds) != parts + 1) {
        PyErr_SetString(PyExc_ValueError, "bounded: one bound more than generators");
        return NULL;
    }
    const npy_intp size = PyLong_AsSsize_t(PyList_GET_ITEM(bounds, parts));
    if (size < 0 && PyErr_Occurred())
        return NULL;
    npy_intp dims[1] = {size};
    PyArrayObject *out = (PyArrayObject *)PyArray_SimpleNew(1, dims, NPY_INT64);
    if (out == NULL)
        return NULL;
    uint64_t *data = (uint64_t *)PyArray_DATA(out);
    for (Py_ssize_t k = 0; k < parts; k++) {
        const Py_ssize_t lo = PyLong_AsSsize_t(PyList_GET_ITEM(bounds, k));
        const Py_ssize_t hi = PyLong_AsSsize_t(PyList_GET_ITEM(bounds, k + 1));
        if (PyErr_Occurred() || lo < 0 || hi < lo || hi > size) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "bounded: bounds must ascend within size");
            Py_DECREF(out);
            return NULL;
        }
        bitgen_t *bitgen = bitgen_of(PyList_GET_ITEM(capsules, k));
        if (bitgen == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        if (hi > lo)
            random_bounded_uint64_fill(bitgen, (uint64_t)off, (uint64_t)rng, hi - lo, false,
                                       data + lo);
    }
    return (PyObject *)out;
}

static PyMethodDef methods[] = {
    {"pick", pick, METH_VARARGS, "One shard's movers (see movers.pick_movers)."},
    {"bounded", bounded, METH_VARARGS, "Bounded integers, each slice from its own generator."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_draws", NULL, -1, methods};

PyMODINIT_FUNC PyInit__draws(void) {
    import_array();
    return PyModule_Create(&module);
}
