/*
 * One C call produces a whole batch of records from columnar buffers into librdkafka.
 *
 * confluent-kafka's Producer.produce() costs ~600-800 ns a record on the task's main thread
 * (keyword parsing, one malloc'd delivery state per record, and a Python bytes object per key
 * and value to build beforehand); this loop calls the same rd_kafka_producev() the client does,
 * with the same flags (RD_KAFKA_MSG_F_COPY), on the same rd_kafka_t, straight from the
 * encoder's buffer and the key table: ~3x less per record (bench/kafka.py). No delivery state
 * is attached (opaque NULL): the client's delivery callback then returns at once, as it does
 * for produce() without on_delivery. Errors surface as they do for produce(): the return value
 * says how many records went in and the librdkafka error code of the one that did not.
 *
 * librdkafka is not linked: the caller passes the addresses of rd_kafka_producev,
 * rd_kafka_topic_new and rd_kafka_topic_destroy looked up in the very library confluent-kafka
 * loaded (connector/kafka/native.py), so both always use one librdkafka.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* rd_kafka_vtype_t, stable since librdkafka 0.9.4 (rdkafka.h). */
enum { VT_END = 0, VT_RKT = 2, VT_PARTITION = 3, VT_VALUE = 4, VT_KEY = 5, VT_MSGFLAGS = 7,
       VT_TIMESTAMP = 8 };
#define MSG_F_COPY 0x2

typedef int (*producev_fn)(void *rk, ...);
typedef void *(*topic_new_fn)(void *rk, const char *topic, void *conf);
typedef void (*topic_destroy_fn)(void *rkt);

/* The rd_kafka_t of a confluent_kafka Producer: the first field after PyObject_HEAD of the
 * client's Handle struct (confluent_kafka.h, unchanged through the 2.x series). */
typedef struct {
    PyObject_HEAD
    void *rk;
} client_handle;

static int get_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, Py_ssize_t count,
                      const char *name) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    if (itemsize && view->len != itemsize * count) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd items of %zd bytes", name, count,
                     itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(produce_doc,
"produce(producer, functions, topic, first, count, values, value_starts, value_lengths,\n"
"        keys, key_starts, key_lengths, partitions, timestamps) -> (next, error)\n\n"
"Produce records first..count-1 (int64 starts and lengths into the byte buffers, a key\n"
"length of -1 is a null key; int32 partitions; int64 timestamps). Returns the index of the\n"
"first record not produced (count when all were) and librdkafka's error code for it (0).");

static PyObject *produce(PyObject *self, PyObject *args) {
    PyObject *producer, *values_o, *vstarts_o, *vlens_o, *keys_o, *kstarts_o, *klens_o,
        *parts_o, *stamps_o;
    unsigned long long producev_addr, topic_new_addr, topic_destroy_addr;
    const char *topic;
    Py_ssize_t first, count;
    if (!PyArg_ParseTuple(args, "O(KKK)snnOOOOOOOO", &producer, &producev_addr,
                          &topic_new_addr, &topic_destroy_addr, &topic, &first, &count,
                          &values_o, &vstarts_o, &vlens_o, &keys_o, &kstarts_o, &klens_o,
                          &parts_o, &stamps_o))
        return NULL;
    void *rk = ((client_handle *)producer)->rk;
    if (rk == NULL)
        return PyErr_Format(PyExc_RuntimeError, "the producer is closed");
    if (first < 0 || first > count)
        return PyErr_Format(PyExc_ValueError, "first %zd outside 0..%zd", first, count);

    Py_buffer v, vs, vl, k, ks, kl, p, t;
    Py_buffer *views[] = {&v, &vs, &vl, &k, &ks, &kl, &p, &t};
    PyObject *objs[] = {values_o, vstarts_o, vlens_o, keys_o, kstarts_o, klens_o, parts_o,
                        stamps_o};
    const Py_ssize_t sizes[] = {0, 8, 8, 0, 8, 8, 4, 8};
    const char *names[] = {"values", "value_starts", "value_lengths", "keys", "key_starts",
                           "key_lengths", "partitions", "timestamps"};
    int held = 0;
    for (; held < 8; held++) {
        if (get_buffer(objs[held], views[held], sizes[held], count, names[held]) < 0) {
            while (held--)
                PyBuffer_Release(views[held]);
            return NULL;
        }
    }
    const char *vbuf = v.buf, *kbuf = k.buf;
    const int64_t *vstart = vs.buf, *vlen = vl.buf, *kstart = ks.buf, *klen = kl.buf,
                  *stamp = t.buf;
    const int32_t *part = p.buf;
    int bad = 0;
    for (Py_ssize_t i = first; i < count; i++) {
        if (vstart[i] < 0 || vlen[i] < 0 || vstart[i] + vlen[i] > v.len ||
            (klen[i] >= 0 && (kstart[i] < 0 || kstart[i] + klen[i] > k.len))) {
            bad = 1;
            break;
        }
    }
    Py_ssize_t i = first;
    int err = 0;
    if (!bad) {
        producev_fn producev = (producev_fn)(uintptr_t)producev_addr;
        void *rkt = ((topic_new_fn)(uintptr_t)topic_new_addr)(rk, topic, NULL);
        if (rkt == NULL) {
            err = -186; /* RD_KAFKA_RESP_ERR__INVALID_ARG, as the client's produce() says */
        } else {
            Py_BEGIN_ALLOW_THREADS
            for (; i < count; i++) {
                const void *key = klen[i] < 0 ? NULL : kbuf + kstart[i];
                size_t key_len = klen[i] < 0 ? 0 : (size_t)klen[i];
                err = producev(rk, VT_MSGFLAGS, MSG_F_COPY, VT_RKT, rkt, VT_PARTITION,
                               (int32_t)part[i], VT_KEY, key, key_len, VT_VALUE,
                               (void *)(vbuf + vstart[i]), (size_t)vlen[i], VT_TIMESTAMP,
                               (int64_t)stamp[i], VT_END);
                if (err)
                    break;
            }
            Py_END_ALLOW_THREADS
            ((topic_destroy_fn)(uintptr_t)topic_destroy_addr)(rkt);
        }
    }
    for (int j = 0; j < 8; j++)
        PyBuffer_Release(views[j]);
    if (bad)
        return PyErr_Format(PyExc_ValueError, "a start or length lies outside its buffer");
    return Py_BuildValue("ni", i, err);
}

static PyMethodDef methods[] = {
    {"produce", produce, METH_VARARGS, produce_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_produce",
    "Columnar batches into librdkafka in one call (see connector/kafka/native.py).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__produce(void) { return PyModule_Create(&module); }
